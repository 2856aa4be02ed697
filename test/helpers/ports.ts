// Test helper: free loopback TCP/UDP ports from the kernel, never fixed numbers.
import { createServer } from "node:net";
import { createSocket } from "node:dgram";

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A UDP port free on 127.0.0.1 right now. */
export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** `tcp://127.0.0.1:<free port>`. */
export async function freeTcpAddress(): Promise<string> {
  return `tcp://127.0.0.1:${await freePort()}`;
}
