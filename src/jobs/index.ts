// The jobs layer: commands run locally, over ssh or as slurm batch jobs, as a component whose states are documents.
export * from "./ssh-connection.js";
export * from "./remote-files.js";
export * from "./job-types.js";
export * from "./job-script.js";
export * from "./file-areas.js";
export * from "./local-backend.js";
export * from "./remote-backend.js";
export * from "./ssh-backend.js";
export * from "./slurm-backend.js";
export * from "./job-manager.js";
export * from "./jobs-params.js";
export * from "./result-record.js";
export * from "./jobs-component.js";
