// A component's link to a core in another process, over the core's ZeroMQ control socket.
import { ControlClient } from "../transport/index.js";
import type { ComponentToCore, CoreToComponent, Link } from "./protocol.js";

/** Connects to the core's control address (e.g. `tcp://127.0.0.1:5551`); the host sends hello itself. */
export function zmqComponentLink(address: string): Link<ComponentToCore, CoreToComponent> {
  const client = new ControlClient(address);
  return {
    send: (m) => client.send(m),
    onMessage: (fn) => client.onMessage((m) => fn(m as unknown as CoreToComponent)),
    close: () => void client.close(),
  };
}
