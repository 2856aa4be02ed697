// Makes sure the Debian packages the tests use are present (real h5py, pyzmq, chromium...), installing them when root.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Debian package -> how to tell it is there. */
const NEEDS = [
  ["python3-zmq", () => py("zmq")],
  ["python3-msgpack", () => py("msgpack")],
  ["python3-numpy", () => py("numpy")],
  ["python3-h5py", () => py("h5py")],
  ["python3-tables", () => py("tables")],
  ["chromium", () => existsSync("/usr/bin/chromium")],
  ["openssh-server", () => existsSync("/usr/sbin/sshd")],
  ["munge", () => existsSync("/usr/sbin/munged")],
  ["slurmctld", () => existsSync("/usr/sbin/slurmctld")],
  ["slurmd", () => existsSync("/usr/sbin/slurmd")],
  ["slurm-client", () => existsSync("/usr/bin/sbatch")],
  // the native HDF5 writer builds against it (the same libhdf5 as h5py)
  ["libhdf5-dev", () => existsSync("/usr/include/hdf5/serial/hdf5.h")],
  // the native ZeroMQ sockets of the data path build against it (the same libzmq as pyzmq)
  ["libzmq3-dev", () => existsSync("/usr/include/zmq.h")],
];

function py(mod) {
  return spawnSync("/usr/bin/python3", ["-c", `import ${mod}`], { stdio: "ignore" }).status === 0;
}

// `node scripts/system-deps.mjs PKG...` checks only those (the bench runner: the native addons' headers).
const only = process.argv.slice(2);
const missing = NEEDS.filter(([pkg, ok]) => (only.length === 0 || only.includes(pkg)) && !ok()).map(
  ([pkg]) => pkg,
);
if (missing.length === 0) process.exit(0);
const root = typeof process.getuid === "function" && process.getuid() === 0;
if (!root || !existsSync("/usr/bin/apt-get")) {
  console.error(
    `hutch tests need these Debian packages: ${missing.join(" ")}\n  sudo apt-get install -y ${missing.join(" ")}`,
  );
  process.exit(1);
}
console.error(`installing Debian packages the tests use: ${missing.join(" ")}`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
const run = (args) => spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env }).status;
if (run(["install", "-y", "-qq", ...missing]) !== 0) {
  run(["update", "-qq"]);
  if (run(["install", "-y", "-qq", ...missing]) !== 0) {
    console.error(`could not install ${missing.join(" ")}`);
    process.exit(1);
  }
}
