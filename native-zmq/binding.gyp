{
  "targets": [
    {
      "target_name": "hutch_zmq",
      "sources": ["zmq_socket.c"],
      "include_dirs": ["../native"],
      "libraries": ["-lzmq"],
      "cflags_c": ["-O2", "-std=gnu11", "-Wall", "-Wextra"]
    }
  ]
}
