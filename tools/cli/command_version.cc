// File: tools/cli/command_version.cc
// `boltpp version`: three lines, as bbolt's (tool version, toolchain, OS/arch).
#include <sys/utsname.h>

#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

std::string CompilerName() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return "gcc " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
         std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

// Go's GOOS/GOARCH spelling of uname's system and machine.
std::string OsArch() {
  std::string os = "unknown", arch = "unknown";
  struct utsname u;
  if (::uname(&u) == 0) {
    os = u.sysname;
    for (auto& ch : os) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    arch = u.machine;
    if (arch == "x86_64") arch = "amd64";
    if (arch == "aarch64") arch = "arm64";
  }
  return os + "/" + arch;
}

int RunVersion(Invocation&) {
  Out(std::string("boltpp Version: ") + BOLTPP_VERSION_STRING +
      " (bbolt file format 2, bbolt 1.5 CLI)\n");
  Out("Compiler: " + CompilerName() + "\n");
  Out("OS/Arch: " + OsArch() + "\n");
  return 0;
}

}  // namespace

Command VersionCommand() {
  Command c = LeafCommand("version", "print the current version of boltpp", ArgsSpec::Any(),
                          RunVersion, {}, "  boltpp version");
  c.long_desc = c.short_desc;
  return c;
}

}  // namespace boltpp::cli
