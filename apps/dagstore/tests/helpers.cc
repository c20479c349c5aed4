#include "helpers.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "boltpp/car/gen.h"
#include "boltpp/car/reader.h"
#include "testutil/temp_dir.h"
#include "testutil/tool_runner.h"

namespace boltpp::dagstore::testing {

std::string MakeCar(const std::string& dir, const std::string& name, uint64_t file_index,
                    uint64_t min_blocks, uint64_t max_blocks) {
  car::GenOptions o;
  o.seed = 7;
  o.min_blocks = min_blocks;
  o.max_blocks = max_blocks;
  o.max_block_size = 512;
  o.identity_fraction = 0.1;
  o.duplicate_fraction = 0.1;
  const std::string path = dir + "/" + name;
  auto r = car::GenerateCar(path, o, file_index);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return path;
}

std::vector<std::pair<car::Cid, std::string>> BlocksOf(const std::string& car_path) {
  std::vector<std::pair<car::Cid, std::string>> out;
  car::ReadOptions ro;
  ro.zero_length_section_as_eof = true;
  auto reader = car::CarReader::OpenFile(car_path, ro);
  EXPECT_TRUE(reader.ok());
  if (!reader.ok()) return out;
  car::Section s;
  for (;;) {
    auto more = (*reader)->Next(&s, true);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    auto cid = car::Cid::FromBytes({reinterpret_cast<const char*>(s.cid.data()), s.cid.size()});
    EXPECT_TRUE(cid.ok());
    out.emplace_back(*cid,
                     std::string(reinterpret_cast<const char*>(s.block.data()), s.block.size()));
  }
  return out;
}

StoreOptions TestOptions(const std::string& root) {
  StoreOptions o;
  o.root = root;
  o.http_timeout = std::chrono::milliseconds(500);
  return o;
}

std::unique_ptr<DagStore> OpenStore(const StoreOptions& o) {
  auto store = DagStore::Open(o);
  EXPECT_TRUE(store.ok()) << Message(store.status());
  return store.ok() ? std::move(*store) : nullptr;
}

std::string Problems(DagStore& store) {
  std::string out;
  for (const auto& p : store.Verify()) out += p + "\n";
  return out;
}

std::string GoCheck(const std::string& db_path) {
#ifdef BOLTPP_DAGSTORE_BBOLTGEN
  boltpp::testing::TempDir dir;
  const std::string out = dir.File("check.txt");
  auto r =
      boltpp::testing::RunTool(BOLTPP_DAGSTORE_BBOLTGEN, {"dump", "-db", db_path, "-checkout", out},
                               {.timeout = std::chrono::seconds(60)});
  if (r.exit_code != 0) return "go check exit " + std::to_string(r.exit_code) + ": " + r.err;
  return ReadFile(out);
#else
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") return "Go helper bboltgen was not built";
  (void)db_path;
  return "";
#endif
}

std::string GoCheckRoot(const std::string& root) {
  const std::string path = root + "/datastore/dagstore.db";
  std::error_code ec;
  return std::filesystem::exists(path, ec) ? GoCheck(path) : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

struct TestHttpServer::Impl {
  httplib::Server server;
  std::mutex mu;
  std::map<std::string, std::pair<std::string, Mode>> files;
};

TestHttpServer::TestHttpServer() : impl_(new Impl) {
  impl_->server.Get(R"(/(.*))", [this](const httplib::Request& req, httplib::Response& res) {
    requests_++;
    std::string bytes;
    Mode mode;
    {
      std::lock_guard lock(impl_->mu);
      auto it = impl_->files.find(req.path);
      if (it == impl_->files.end()) {
        res.status = 404;
        return;
      }
      bytes = it->second.first;
      mode = it->second.second;
    }
    if (mode == Mode::kFail) {
      res.status = 500;
      res.set_content("injected failure", "text/plain");
      return;
    }
    if (mode == Mode::kBadLength) {
      res.set_header("Content-Length", "x12");
      res.body = bytes;
      return;
    }
    if (mode == Mode::kStall) std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms));
    auto data = std::make_shared<std::string>(std::move(bytes));
    const size_t limit = mode == Mode::kCut ? data->size() / 2 : data->size();
    res.set_content_provider(data->size(), "application/octet-stream",
                             [data, limit](size_t offset, size_t length, httplib::DataSink& sink) {
                               if (offset >= limit) return false;  // cut: close early
                               const size_t n = std::min(length, limit - offset);
                               return sink.write(data->data() + offset, n);
                             });
  });
  port_ = impl_->server.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TestHttpServer::~TestHttpServer() {
  impl_->server.stop();
  thread_.join();
}

void TestHttpServer::Add(const std::string& path, std::string bytes, Mode mode) {
  std::lock_guard lock(impl_->mu);
  impl_->files[path] = {std::move(bytes), mode};
}

void TestHttpServer::SetMode(const std::string& path, Mode mode) {
  std::lock_guard lock(impl_->mu);
  impl_->files[path].second = mode;
}

std::string TestHttpServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace boltpp::dagstore::testing
