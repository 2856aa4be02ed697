{
  "targets": [
    {
      "target_name": "hutch_native",
      "sources": ["module.c", "larpix_decode.c", "area_detector.c", "udp_recv.c", "target_c_decode.c", "copy_rows.c"],
      "cflags_c": ["-O3", "-std=c11", "-Wall", "-Wextra"]
    }
  ]
}
