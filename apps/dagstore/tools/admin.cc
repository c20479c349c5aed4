#include "admin.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

namespace boltpp::dagstore::cli {
namespace {

constexpr char kRun[] = "/v1/run";
constexpr char kInterrupt[] = "/v1/interrupt";

std::string Frame(char kind, std::string_view bytes) {
  std::string f(1, kind);
  f += std::to_string(bytes.size());
  f += '\n';
  f.append(bytes);
  return f;
}

bool FitsSunPath(const std::string& path) { return path.size() < sizeof(sockaddr_un{}.sun_path); }

// The output of a command run for a client: frames on the response stream.
class StreamOutput : public Output {
 public:
  StreamOutput(httplib::DataSink& sink, std::shared_ptr<std::atomic<bool>> interrupted)
      : sink_(sink), interrupted_(std::move(interrupted)) {}
  void Out(std::string_view bytes) override { Write(Frame('o', bytes)); }
  void Err(std::string_view line) override { Write(Frame('e', line)); }
  bool Interrupted() const override { return *interrupted_ || broken_; }
  void Exit(int status) { Write(Frame('x', std::to_string(status))); }

 private:
  void Write(const std::string& frame) {
    std::lock_guard lock(mu_);
    if (broken_) return;
    // A client gone away: stop scheduling, as on Ctrl-C.
    if (!sink_.write(frame.data(), frame.size())) broken_ = true;
  }
  httplib::DataSink& sink_;
  std::shared_ptr<std::atomic<bool>> interrupted_;
  std::mutex mu_;
  std::atomic<bool> broken_{false};
};

// Parses the frames of a /v1/run answer as they arrive.
class FrameReader {
 public:
  explicit FrameReader(Output& out) : out_(out) {}
  void Feed(const char* data, size_t n) {
    buf_.append(data, n);
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl == std::string::npos || nl < 1) return;
      size_t len = 0;
      auto [p, ec] = std::from_chars(buf_.data() + 1, buf_.data() + nl, len);
      if (ec != std::errc() || p != buf_.data() + nl) {
        bad_ = true;
        buf_.clear();
        return;
      }
      if (buf_.size() < nl + 1 + len) return;
      const std::string_view bytes(buf_.data() + nl + 1, len);
      switch (buf_[0]) {
        case 'o':
          out_.Out(bytes);
          break;
        case 'e':
          out_.Err(bytes);
          break;
        case 'x':
          exit_ = bytes == "0" ? 0 : 1;
          break;
        default:
          bad_ = true;
      }
      buf_.erase(0, nl + 1 + len);
    }
  }
  std::optional<int> exit() const { return bad_ ? std::nullopt : exit_; }

 private:
  Output& out_;
  std::string buf_;
  std::optional<int> exit_;
  bool bad_ = false;
};

std::string NewRequestId() {
  std::random_device rd;
  return std::to_string(getpid()) + "-" + std::to_string(rd());
}

}  // namespace

std::string AdminSocketPath(const std::string& root) { return root + "/admin.sock"; }

struct AdminServer::Impl {
  DagStore* store;
  std::string path;
  httplib::Server server;
  std::thread thread;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> running;  // id -> interrupt flag
  bool started = false;
};

AdminServer::AdminServer(DagStore* store) : impl_(new Impl) {
  impl_->store = store;
  impl_->path = AdminSocketPath(store->options().root);
  Impl* impl = impl_.get();
  impl->server.set_address_family(AF_UNIX);
  impl->server.Post(kRun, [impl](const httplib::Request& req, httplib::Response& res) {
    Request request;
    try {
      request = RequestFromJson(nlohmann::json::parse(req.body));
    } catch (const std::exception& e) {
      res.status = 400;
      res.set_content(std::string("bad request: ") + e.what() + "\n", "text/plain");
      return;
    }
    auto flag = std::make_shared<std::atomic<bool>>(false);
    {
      std::lock_guard lock(impl->mu);
      impl->running[request.id] = flag;
    }
    res.set_chunked_content_provider("application/octet-stream",
                                     [impl, request, flag](size_t, httplib::DataSink& sink) {
                                       StreamOutput out(sink, flag);
                                       out.Exit(Execute(*impl->store, request, out));
                                       {
                                         std::lock_guard lock(impl->mu);
                                         impl->running.erase(request.id);
                                       }
                                       sink.done();
                                       return true;
                                     });
  });
  impl->server.Post(kInterrupt, [impl](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(impl->mu);
    auto it = impl->running.find(req.body);
    if (it != impl->running.end()) *it->second = true;
    res.set_content("ok\n", "text/plain");
  });
}

AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Start() {
  if (!FitsSunPath(impl_->path)) {
    return Status(Code::kInvalidArgument,
                  "admin socket path too long for a Unix socket: " + impl_->path);
  }
  ::unlink(impl_->path.c_str());    // stale: we hold the lock, no daemon owns it
  const mode_t old = ::umask(077);  // the socket is the owner's only
  const bool bound = impl_->server.bind_to_port(impl_->path.c_str(), 80);
  ::umask(old);
  if (!bound) return Status(Code::kIOError, "cannot listen on " + impl_->path);
  impl_->started = true;
  impl_->thread = std::thread([impl = impl_.get()] { impl->server.listen_after_bind(); });
  return Status::OK();
}

void AdminServer::Stop() {
  if (!impl_->started) return;
  impl_->started = false;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [id, flag] : impl_->running) *flag = true;
  }
  ::unlink(impl_->path.c_str());  // new commands open the store directly (and wait for the lock)
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::optional<int> ForwardToDaemon(const std::string& root, const Request& request, Output& out,
                                   const std::atomic<bool>& interrupted) {
  const std::string path = AdminSocketPath(root);
  std::error_code ec;
  if (!FitsSunPath(path) || !std::filesystem::is_socket(path, ec)) return std::nullopt;
  httplib::Client client(path);
  client.set_address_family(AF_UNIX);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(24 * 3600, 0);  // a command may index big shards for long
  Request sent = request;
  sent.id = NewRequestId();

  httplib::Request req;
  req.method = "POST";
  req.path = kRun;
  req.body = ToJson(sent).dump();
  req.set_header("Content-Type", "application/json");
  req.set_header("Host", "localhost");
  FrameReader reader(out);
  int status_code = 0;
  req.response_handler = [&](const httplib::Response& r) {
    status_code = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    reader.Feed(data, n);
    return true;
  };

  // Passes Ctrl-C on to the daemon while the command runs.
  std::atomic<bool> done{false};
  std::thread interrupter([&] {
    while (!done && !interrupted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (done) return;
    httplib::Client c(path);
    c.set_address_family(AF_UNIX);
    (void)c.Post(kInterrupt, sent.id, "text/plain");
  });
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const bool ok = client.send(req, res, error);
  done = true;
  interrupter.join();

  if (!ok && error == httplib::Error::Connection) return std::nullopt;  // stale socket
  if (ok && status_code != 200) {
    out.Err("boltpp-dagstore: the daemon at " + path + " refused the command (HTTP " +
            std::to_string(status_code) + ")\n");
    return 1;
  }
  if (!ok || !reader.exit()) {
    out.Err("boltpp-dagstore: lost the connection to the daemon (serve) at " + path + " during " +
            request.command + ": " +
            (ok ? std::string("the answer ended early") : httplib::to_string(error)) +
            "; the command may or may not have taken effect\n");
    return 1;
  }
  return *reader.exit();
}

}  // namespace boltpp::dagstore::cli
