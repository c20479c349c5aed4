#include "boltpp/dagstore/http_server.h"

#include <httplib.h>

#include "boltpp/car/cid.h"

namespace boltpp::dagstore {

struct HttpServer::Impl {
  DagStore* store;
  httplib::Server server;
};

namespace {

void Error(httplib::Response& res, int status, const std::string& msg) {
  res.status = status;
  res.set_content(msg + "\n", "text/plain");
}

void ServeBlock(DagStore* store, const httplib::Request& req, httplib::Response& res) {
  if (req.has_param("format") && req.get_param_value("format") != "raw") {
    return Error(res, 400, "only format=raw is supported");
  }
  auto cid = car::Cid::FromString(req.matches[1].str());
  if (!cid.ok()) return Error(res, 400, "bad CID: " + Message(cid.status()));
  auto block = store->GetBlock(*cid);
  if (!block.ok()) {
    return Error(res, IsNotFound(block.status()) ? 404 : 503, Message(block.status()));
  }
  res.set_content(std::move(*block), "application/vnd.ipld.raw");
}

void ServePiece(DagStore* store, const httplib::Request& req, httplib::Response& res) {
  auto acc = store->AcquireShard(req.matches[1].str());
  if (!acc.ok()) return Error(res, IsNotFound(acc.status()) ? 404 : 503, Message(acc.status()));
  std::shared_ptr<ShardAccessor> holder(std::move(*acc));
  auto file = std::make_shared<std::ifstream>(holder->data_path(), std::ios::binary);
  if (!*file) return Error(res, 503, "cannot open " + holder->data_path());
  file->seekg(0, std::ios::end);
  const size_t size = static_cast<size_t>(file->tellg());
  file->seekg(0);
  // The accessor (and so the acquisition) lives until the body is sent.
  res.set_content_provider(size, "application/vnd.ipld.car",
                           [holder, file](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::string buf(std::min<size_t>(length, 1 << 16), '\0');
                             file->seekg(static_cast<std::streamoff>(offset));
                             file->read(buf.data(), static_cast<std::streamsize>(buf.size()));
                             const auto got = static_cast<size_t>(file->gcount());
                             if (got == 0) return false;
                             return sink.write(buf.data(), got);
                           });
}

}  // namespace

HttpServer::HttpServer(DagStore* store) : impl_(new Impl{store, {}}) {
  DagStore* s = store;
  impl_->server.Get(R"(/ipfs/([^/?]+))", [s](const httplib::Request& req, httplib::Response& res) {
    ServeBlock(s, req, res);
  });
  impl_->server.Get(R"(/piece/([^/?]+))", [s](const httplib::Request& req, httplib::Response& res) {
    ServePiece(s, req, res);
  });
}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Bind(const std::string& host, int port) {
  const int bound = port == 0 ? impl_->server.bind_to_any_port(host.c_str())
                              : (impl_->server.bind_to_port(host.c_str(), port) ? port : -1);
  if (bound <= 0) {
    return Status(Code::kIOError, "cannot listen on " + host + ":" + std::to_string(port));
  }
  return bound;
}

void HttpServer::Run() { impl_->server.listen_after_bind(); }

void HttpServer::Stop() { impl_->server.stop(); }

}  // namespace boltpp::dagstore
