// The CLI layer: operator commands and terminal formatting (the program itself is assembled in app/main.ts).
export * from "./format.js";
export * from "./operator-commands.js";
