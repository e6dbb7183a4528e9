{
  "variables": {
    "core_sources": [
      "src/native/core/arena.c",
      "src/native/core/buffer.c",
      "src/native/core/error.c",
      "src/native/core/kept-fd.c",
      "src/native/core/log.c",
      "src/native/core/match.c",
      "src/native/core/patch.c",
      "src/native/core/resolve.c",
      "src/native/core/objects.c",
      "src/native/core/report.c",
      "src/native/core/slots.c",
      "src/native/core/symbols.c",
      "src/native/arch/aarch64/core.c",
      "src/native/arch/aarch64/loadwatch.c",
      "src/native/callback/arch/aarch64/callback-stubs.c",
      "src/native/callback/arch/aarch64/callback-handler.S",
      "src/native/arch/i386/core.c",
      "src/native/arch/i386/loadwatch.c",
      "src/native/callback/arch/i386/callback-stubs.c",
      "src/native/callback/arch/i386/callback-handler.S",
      "src/native/arch/x86_64/core.c",
      "src/native/arch/x86_64/loadwatch.c",
      "src/native/callback/arch/x86_64/callback-stubs.c",
      "src/native/callback/arch/x86_64/callback-handler.S",
      "src/native/callback/callback.c",
      "src/native/callback/access.c",
      "src/native/callback/access-report.c",
      "src/native/callback/plan.c",
      "src/native/callback/names.c",
      "src/native/backends/trace/prototypes-table.c",
      "src/native/callback/sites.c",
      "src/native/callback/environment.c",
      "src/native/config/config.c",
      "src/native/config/lex.c",
      "src/native/config/model.c",
      "src/native/config/options.c",
      "src/native/config/rules.c",
      "src/native/config/act-rules.c",
      "src/native/backends/act/act-spec.c",
      "src/native/config/sections.c",
      "src/native/config/source.c",
      "src/native/loadwatch/loadwatch.c",
      "src/native/redefine/redefine.c",
      "src/native/relink/relink.c",
      "src/native/session/backends.c",
      "src/native/session/backend-helpers.c",
      "src/native/session/act.c",
      "src/native/session/claims.c",
      "src/native/session/cxx-names.c",
      "src/native/session/install.c",
      "src/native/session/callback-plan.c",
      "src/native/session/originals.c",
      "src/native/session/wrapper-aliases.c",
      "src/native/session/outcomes.c",
      "src/native/session/session.c",
      "src/native/session/uninstall.c",
      "src/native/session/verdicts.c"
    ],
    "preload_sources": [
      "src/native/inspect/inspect.c",
      "src/native/preload/attach.c",
      "src/native/preload/preload.c"
    ]
  },
  "target_defaults": {
    "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra"],
    "cflags_c": ["-std=c11"],
    "cflags_cc": ["-fvisibility-inlines-hidden"],
    "include_dirs": ["include"],
    "ldflags": ["-Wl,-z,nodelete"],
    "configurations": {
      "Debug": {"defines": ["DEBUG"]},
      "Release": {"defines": ["NDEBUG"]}
    }
  },
  "targets": [
    {
      "target_name": "pdi_core",
      "type": "static_library",
      "sources": ["<@(core_sources)"]
    },
    {
      "target_name": "pdi",
      "dependencies": [
        "pdi_core",
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "sources": [
        "src/native/addon/addon.cc",
        "src/native/addon/process-queries.cc",
        "src/native/addon/ring-reader.c",
        "src/native/addon/signal-senders.c",
        "src/native/addon/trace-drain.c",
        "src/native/addon/trace-json.c",
        "src/native/addon/trace-output.c",
        "src/native/addon/trace-sites.c",
        "src/native/addon/trace-drain-summary.c",
        "src/native/addon/trace-programs.c",
        "src/native/addon/trace-text.c"
      ],
      "defines": ["NAPI_VERSION=9", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "ldflags": ["-Wl,--exclude-libs,ALL"]
    },
    {
      "target_name": "pdi-preload",
      "type": "shared_library",
      "dependencies": ["pdi_core"],
      "sources": ["<@(preload_sources)"],
      "ldflags": [
        "-Wl,-z,defs",
        "-Wl,-Bsymbolic",
        "-Wl,--version-script=../src/native/preload/pdi-preload.map"
      ],
      "libraries": ["-ldl", "-lpthread"]
    },
    {
      "target_name": "pdi-inject",
      "type": "executable",
      "sources": [
        "src/native/arch/x86_64/inject.c",
        "src/native/inject/main.c",
        "src/native/inject/target.c",
        "src/native/inject/thread.c"
      ]
    },
    {
      "target_name": "pdi-backend-count",
      "type": "shared_library",
      "sources": ["src/native/backends/count/count.c", "src/native/core/kept-fd.c"],
      "ldflags": ["-Wl,-z,defs"]
    },
    {
      "target_name": "pdi-backend-comux-accept",
      "type": "shared_library",
      "sources": [
        "src/native/backends/comux-accept/comux.c",
        "src/native/backends/comux-accept/comux-accept.c",
        "src/native/backends/comux-accept/controller.c",
        "src/native/backends/comux-accept/guardian.c",
        "src/native/backends/comux-accept/server-state.c",
        "src/native/backends/comux-accept/sentinel.c",
        "src/native/backends/comux-accept/forks.c",
        "src/native/backends/comux-accept/epoll-sets.c",
        "src/native/backends/comux-accept/named-streams.c",
        "src/native/backends/comux-accept/wrappers.c",
        "src/native/backends/comux-accept/replies.c",
        "src/native/backends/comux-accept/handback.c",
        "src/native/core/kept-fd.c"
      ],
      "ldflags": ["-Wl,-z,defs"],
      "libraries": ["-lpthread", "-ldl"]
    },
    {
      "target_name": "pdi-backend-trace",
      "type": "shared_library",
      "sources": [
        "src/native/backends/trace/trace.c",
        "src/native/backends/trace/ring.c",
        "src/native/backends/trace/clock.c",
        "src/native/backends/trace/format.c",
        "src/native/backends/trace/flags.c",
        "src/native/backends/trace/errnames.c",
        "src/native/backends/common/safe-read.c",
        "src/native/backends/trace/filter.c",
        "src/native/backends/trace/unseen.c",
        "src/native/backends/trace/marks.c",
        "src/native/backends/trace/exec-environment.c",
        "src/native/backends/trace/list.c",
        "src/native/backends/trace/names.c",
        "src/native/backends/trace/prototypes.c",
        "src/native/backends/trace/prototypes-table.c",
        "src/native/backends/trace/output.c",
        "src/native/core/kept-fd.c"
      ],
      "ldflags": ["-Wl,-z,defs"],
      "libraries": ["-lpthread", "-ldl", "-lm"]
    },
    {
      "target_name": "pdi-backend-act",
      "type": "shared_library",
      "sources": [
        "src/native/backends/act/act.c",
        "src/native/backends/act/act-spec.c",
        "src/native/backends/common/safe-read.c",
        "src/native/core/kept-fd.c"
      ],
      "ldflags": ["-Wl,-z,defs"]
    },
    {
      "target_name": "pdi-comux-mutator",
      "type": "shared_library",
      "sources": [
        "src/native/comux-mutator/comux-mutator.c",
        "src/native/comux-mutator/doc.c",
        "src/native/comux-mutator/mutate-chunks.c",
        "src/native/comux-mutator/mutate-data.c",
        "src/native/comux-mutator/trim.c",
        "src/native/backends/comux-accept/comux.c"
      ],
      "ldflags": ["-Wl,-z,defs"]
    },
    {
      "target_name": "pdi-backend-noop",
      "type": "shared_library",
      "sources": ["src/native/backends/noop/noop.c"],
      "ldflags": ["-Wl,-z,defs"]
    }
  ]
}
