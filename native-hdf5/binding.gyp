{
  "targets": [
    {
      "target_name": "hutch_hdf5",
      "sources": ["hdf5_writer.c"],
      "include_dirs": ["../native", "<!@(pkg-config --cflags-only-I hdf5 | sed -e 's/-I//g')"],
      "libraries": ["<!@(pkg-config --libs hdf5)"],
      "ldflags": ["-Wl,-z,nodelete"],
      "cflags_c": ["-O2", "-std=gnu11", "-Wall", "-Wextra"]
    }
  ]
}
