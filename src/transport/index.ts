// The transport layer: the in-process bus, network transports (ZeroMQ), and SSH helpers (known_hosts, shell quoting). Knows no instrument.
export * from "./bus.js";
export * from "./control-socket.js";
export * from "./zmq-endpoint.js";
export * from "./zmq-inbox.js";
export * from "./zmq-publisher.js";
export * from "./zmq-subscriber.js";
export * from "./zmq-push-sender.js";
export * from "./zmq-pull-receiver.js";
export * from "./native-zmq.js";
export * from "./broker.js";
export * from "./bridge.js";
export * from "./inbox-subscription.js";
export * from "./known-hosts.js";
export * from "./shell-quote.js";
