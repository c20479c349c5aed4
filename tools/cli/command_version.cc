// File: tools/cli/command_version.cc
// `boltpp version`: three lines, as bbolt's (tool version, toolchain, OS/arch).
#include <sys/utsname.h>

#include <string>

#include "cli.h"

namespace boltpp::cli {

Command VersionCommand() {
  Command c;
  c.name = "version";
  c.use = "version";
  c.short_desc = "print the current version of boltpp";
  c.long_desc = "print the current version of boltpp";
  c.args = ArgsSpec::Any();
  c.example = "  boltpp version";
  c.run = [](Invocation&) {
    std::string compiler;
#if defined(__clang__)
    compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    compiler = "gcc " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
               std::to_string(__GNUC_PATCHLEVEL__);
#else
    compiler = "unknown";
#endif
    std::string os = "unknown", arch = "unknown";
    struct utsname u;
    if (::uname(&u) == 0) {
      os = u.sysname;
      for (auto& ch : os) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      arch = u.machine;
      if (arch == "x86_64") arch = "amd64";
      if (arch == "aarch64") arch = "arm64";
    }
    Out(std::string("boltpp Version: ") + BOLTPP_VERSION_STRING +
        " (bbolt file format 2, bbolt 1.5 CLI)\n");
    Out("Compiler: " + compiler + "\n");
    Out("OS/Arch: " + os + "/" + arch + "\n");
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
