// boltpp-car: go-car's `car` command for CARv1/CARv2 files and their indexes
// (inspect, ls/list, root, get-block, index create, detach-index, verify) plus
// `gen`, a deterministic corpus generator. Every failure prints one line on
// stderr and exits with status 1.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>

#include "boltpp/car/cid.h"
#include "boltpp/car/gen.h"
#include "boltpp/car/file_io.h"
#include "boltpp/car/index.h"
#include "boltpp/car/inspect.h"
#include "boltpp/car/reader.h"

namespace car = boltpp::car;
using boltpp::Status;

namespace {

// A failed command: its message goes to stderr and the exit status is 1.
struct Failure {
  std::string message;
};

void Check(const Status& s) {
  if (!s.ok()) throw Failure{s.ToString()};
}

template <typename T>
T Take(boltpp::Result<T> r) {
  if (!r.ok()) throw Failure{r.status().ToString()};
  return std::move(*r);
}

std::unique_ptr<car::CarReader> OpenCar(const std::string& path, bool zero_length_as_eof = false) {
  car::ReadOptions o;
  o.zero_length_section_as_eof = zero_length_as_eof;
  if (path.empty() || path == "-") return Take(car::CarReader::OpenStream(STDIN_FILENO, o));
  return Take(car::CarReader::OpenFile(path, o));
}

void WriteAll(int fd, const void* data, size_t n, const std::string& what) {
  Status s = car::WriteAll(fd, {static_cast<const char*>(data), n}, what);
  if (!s.ok()) throw Failure{s.detail()};
}

void WriteFile(const std::string& path, const void* data, size_t n) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Failure{fmt::format("create {}: {}", path, std::strerror(errno))};
  try {
    WriteAll(fd, data, n, path);
  } catch (...) {
    close(fd);
    throw;
  }
  if (close(fd) != 0) throw Failure{fmt::format("close {}: {}", path, std::strerror(errno))};
}

void Inspect(const std::string& path, bool full) {
  auto reader = OpenCar(path, true);
  const car::InspectReport report = Take(car::Inspect(*reader, full));
  std::fputs(report.ToString().c_str(), stdout);
}

void List(const std::string& path) {
  auto reader = OpenCar(path);
  car::Section s;
  std::string out;
  for (;;) {
    const bool more = Take(reader->Next(&s, false));
    if (!more) break;
    out +=
        car::CidToString({reinterpret_cast<const char*>(s.cid.data()), s.cid.size()}, s.cid_info);
    out += '\n';
    if (out.size() >= (1 << 16)) {
      WriteAll(STDOUT_FILENO, out.data(), out.size(), "stdout");
      out.clear();
    }
  }
  WriteAll(STDOUT_FILENO, out.data(), out.size(), "stdout");
}

void Root(const std::string& path) {
  auto reader = OpenCar(path);
  for (const car::Cid& c : reader->roots()) std::printf("%s\n", c.ToString().c_str());
}

void GetBlock(const std::string& path, const std::string& cid_text, const std::string& out) {
  const car::Cid want = Take(car::Cid::FromString(cid_text));
  auto reader = OpenCar(path);
  std::optional<car::Section> found;
  if (reader->seekable() && reader->v2_header() && reader->v2_header()->has_index()) {
    // Use the CAR's own index: look the multihash up, then read the section.
    const auto bytes = Take(reader->IndexBytes());
    const car::Index index =
        Take(car::Index::Parse({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}));
    found = Take(car::FindSection(index, *reader, want));
  }
  if (!found) {
    car::Section s;
    while (Take(reader->Next(&s, true))) {
      if (std::string_view(reinterpret_cast<const char*>(s.cid.data()), s.cid.size()) ==
          want.bytes()) {
        found = s;
        break;
      }
    }
  }
  if (!found) throw Failure{fmt::format("block {} not found in {}", want.ToString(), path)};
  if (out.empty() || out == "-") {
    WriteAll(STDOUT_FILENO, found->block.data(), found->block.size(), "stdout");
  } else {
    WriteFile(out, found->block.data(), found->block.size());
  }
}

uint64_t ParseIndexCodec(const std::string& name) {
  if (name == "car-multihash-index-sorted" || name == "0x0401" || name == "0x401") {
    return car::kMultihashIndexSortedCodec;
  }
  if (name == "car-index-sorted" || name == "0x0400" || name == "0x400")
    return car::kIndexSortedCodec;
  throw Failure{fmt::format(
      "unknown index codec \"{}\" (car-multihash-index-sorted or car-index-sorted)", name)};
}

void DetachIndex(const std::string& path, const std::string& out) {
  auto reader = OpenCar(path);
  if (reader->version() != 2)
    throw Failure{fmt::format("{}: a CARv1 has no index to detach", path)};
  if (!reader->v2_header()->has_index())
    throw Failure{fmt::format("{}: the CARv2 has no index", path)};
  const auto bytes = Take(reader->IndexBytes());
  WriteFile(out, bytes.data(), bytes.size());
}

struct GenFlags {
  std::string out;
  uint64_t count = 1;
  uint64_t blocks = 0, block_size = 0;
  std::string version = "mix";
  car::GenOptions o;
};

void Gen(GenFlags& g) {
  if (g.blocks > 0) g.o.min_blocks = g.o.max_blocks = g.blocks;
  if (g.block_size > 0) g.o.min_block_size = g.o.max_block_size = g.block_size;
  g.o.version = Take(car::ParseGenVersion(g.version));
  for (double f : {g.o.v0_fraction, g.o.identity_fraction, g.o.duplicate_fraction}) {
    if (!(f >= 0 && f <= 1)) throw Failure{fmt::format("fraction {} is not between 0 and 1", f)};
  }
  if (g.o.min_block_size == 0) throw Failure{"block sizes must be at least 1"};
  std::error_code ec;
  std::filesystem::create_directories(g.out, ec);
  if (ec) throw Failure{fmt::format("create {}: {}", g.out, ec.message())};
  uint64_t blocks = 0, bytes = 0;
  for (uint64_t i = 0; i < g.count; i++) {
    const std::string path = fmt::format("{}/gen-{}-{:04}.car", g.out, g.o.seed, i);
    const car::GenStats st = Take(car::GenerateCar(path, g.o, i));
    blocks += st.blocks;
    bytes += st.bytes;
  }
  std::printf("wrote %llu CAR files (%llu blocks, %llu bytes) to %s\n",
              static_cast<unsigned long long>(g.count), static_cast<unsigned long long>(blocks),
              static_cast<unsigned long long>(bytes), g.out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"boltpp-car: inspect, list, index and verify CAR files (go-car's car command)"};
  app.require_subcommand(1);
  std::string path, cid, out, codec = "car-multihash-index-sorted";
  bool full = false, store_identity = false, zero_eof = false, regenerate = false;

  auto* inspect =
      app.add_subcommand("inspect", "verifies a car and prints a basic report about its contents");
  inspect->add_option("car", path, "CAR file")->required();
  inspect->add_flag("--full", full, "check that the block data hash digests match the CIDs");

  auto* ls = app.add_subcommand("ls", "list the CIDs in a car (stdin when no file)")->alias("list");
  ls->add_option("car", path, "CAR file");

  auto* root = app.add_subcommand("root", "get the root CID(s) of a car");
  root->add_option("car", path, "CAR file")->required();

  auto* get = app.add_subcommand("get-block", "get a block out of a car (stdout when no OUT)");
  get->add_option("car", path, "CAR file")->required();
  get->add_option("cid", cid, "the block's CID")->required();
  get->add_option("out", out, "output file");

  auto* index = app.add_subcommand("index", "index a car");
  index->require_subcommand(1);
  auto* create =
      index->add_subcommand("create", "write the index of a CAR (a CARv2's own index is adopted)");
  create->add_option("car", path, "CAR file")->required();
  create->add_option("out", out, "index file to write")->required();
  create->add_option("--codec", codec, "car-multihash-index-sorted (default) or car-index-sorted");
  create->add_flag("--store-identity", store_identity, "index identity-hash CIDs too (dagstore)");
  create->add_flag("--zero-length-eof", zero_eof,
                   "a zero-length section ends the data (padded pieces)");
  create->add_flag("--regenerate", regenerate, "build the index even when a CARv2 has one");

  auto* detach = app.add_subcommand("detach-index", "write a CARv2's index to a file");
  detach->add_option("car", path, "CARv2 file")->required();
  detach->add_option("out", out, "index file to write")->required();

  auto* verify = app.add_subcommand("verify", "verify a CAR is well-formed");
  verify->add_option("car", path, "CAR file")->required();
  verify->add_flag("--full", full, "also re-hash every block");
  verify->add_flag("--zero-length-eof", zero_eof,
                   "a zero-length section ends the data (padded pieces)");

  GenFlags g;
  auto* gen = app.add_subcommand("gen", "write deterministic CAR files for tests and benchmarks");
  gen->add_option("--out", g.out, "directory to write into")->required();
  gen->add_option("--count", g.count, "number of CAR files")->capture_default_str();
  gen->add_option("--seed", g.o.seed, "seed")->capture_default_str();
  gen->add_option("--min-blocks", g.o.min_blocks, "fewest leaves per CAR")->capture_default_str();
  gen->add_option("--max-blocks", g.o.max_blocks, "most leaves per CAR")->capture_default_str();
  gen->add_option("--blocks", g.blocks, "exactly this many leaves per CAR");
  gen->add_option("--min-block-size", g.o.min_block_size, "smallest leaf")->capture_default_str();
  gen->add_option("--max-block-size", g.o.max_block_size, "largest leaf")->capture_default_str();
  gen->add_option("--block-size", g.block_size, "every leaf this size");
  gen->add_option("--v0-fraction", g.o.v0_fraction, "share of dag-pb/CIDv0 nodes")
      ->capture_default_str();
  gen->add_option("--identity-fraction", g.o.identity_fraction, "share of identity-CID leaves")
      ->capture_default_str();
  gen->add_option("--dup-fraction", g.o.duplicate_fraction, "share of repeated leaves")
      ->capture_default_str();
  gen->add_option("--version", g.version, "1, 2, 2i (v2 with index) or mix")->capture_default_str();
  gen->add_flag("--pad", g.o.zero_pad, "pad CARv1 files with zeros to a power of two");
  gen->add_option("--fanout", g.o.fanout, "links per interior node")->capture_default_str();

  // CLI11 would only say "A subcommand is required" for a misspelt command.
  if (argc > 1 && argv[1][0] != '-') {
    try {
      app.get_subcommand(argv[1]);
    } catch (const CLI::OptionNotFound&) {
      std::fprintf(stderr, "boltpp-car: unknown command \"%s\" (see --help)\n", argv[1]);
      return 1;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "boltpp-car: %s\n", e.what());
    return 1;
  }
  try {
    if (*inspect) Inspect(path, full);
    if (*ls) List(path);
    if (*root) Root(path);
    if (*get) GetBlock(path, cid, out);
    if (*create) {
      car::IndexOptions o;
      o.codec = ParseIndexCodec(codec);
      o.store_identity_cids = store_identity;
      o.zero_length_section_as_eof = zero_eof;
      o.adopt_existing = !regenerate;
      Check(car::WriteIndexFile(path, out, o));
    }
    if (*detach) DetachIndex(path, out);
    if (*verify) {
      car::VerifyOptions o;
      o.rehash_blocks = full;
      o.zero_length_section_as_eof = zero_eof;
      Check(car::Verify(path, o));
    }
    if (*gen) Gen(g);
  } catch (const Failure& f) {
    std::fflush(stdout);
    std::fprintf(stderr, "boltpp-car: %s\n", f.message.c_str());
    return 1;
  } catch (const std::exception& e) {  // bad_alloc, filesystem_error, ...
    std::fflush(stdout);
    std::fprintf(stderr, "boltpp-car: %s\n", e.what());
    return 1;
  }
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "boltpp-car: write stdout: %s\n", std::strerror(errno));
    return 1;
  }
  return 0;
}
