{
  "targets": [
    {
      "target_name": "sight",
      "sources": ["sight.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
