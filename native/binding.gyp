{
  "targets": [
    {
      "target_name": "hutch_native",
      "sources": ["module.c", "larpix_decode.c", "area_detector.c"],
      "cflags_c": ["-O3", "-march=native", "-std=c11", "-Wall", "-Wextra"]
    }
  ]
}
