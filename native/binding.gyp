{
  "targets": [
    {
      "target_name": "hutch_native",
      "sources": ["larpix_decode.c"],
      "cflags_c": ["-O3", "-march=native", "-std=c11", "-Wall", "-Wextra"]
    }
  ]
}
