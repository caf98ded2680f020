{
  "targets": [
    {
      "target_name": "vigil_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/probe.cc",
        "native/src/bpf_object.cc",
        "native/src/maps.cc",
        "native/src/reader.cc",
        "native/src/layout.cc",
        "native/src/features.cc",
        "native/src/sysutil.cc",
        "native/src/pidfd_kill.cc",
        "native/src/errors.cc",
        "native/src/ringbuf.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "bpf"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-pedantic", "-fexceptions"],
      "libraries": ["-lbpf", "-lelf", "-lz", "-lpthread"]
    }
  ]
}
