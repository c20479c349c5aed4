// File: apps/jobstore/src/model.cc
#include "boltpp/jobstore/model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>

namespace boltpp::jobstore {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::array<std::string_view, kLocalStateCount> kLocalStateNames = {
    "Undefined",      "Created",    "BidAccepted", "Running", "WaitingVerification",
    "ResultAccepted", "Publishing", "Completed",   "Failed",  "Cancelled"};
constexpr std::array<std::string_view, 6> kJobStateNames = {"Undefined", "Pending", "Running",
                                                            "Completed", "Failed",  "Stopped"};
constexpr std::array<std::string_view, 10> kExecStateNames = {"Undefined",
                                                              "New",
                                                              "AskForBid",
                                                              "AskForBidAccepted",
                                                              "AskForBidRejected",
                                                              "BidAccepted",
                                                              "BidRejected",
                                                              "Completed",
                                                              "Failed",
                                                              "Cancelled"};
constexpr std::array<std::string_view, 3> kDesiredStateNames = {"Pending", "Running", "Stopped"};

template <size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names, int v) {
  return v >= 0 && static_cast<size_t>(v) < N ? names[v] : names[0];
}

}  // namespace

std::string_view ErrcName(Errc code) {
  switch (code) {
    case Errc::kOk:
      return "OK";
    case Errc::kJobNotFound:
      return "JobNotFound";
    case Errc::kMultipleJobsFound:
      return "MultipleJobsFound";
    case Errc::kJobAlreadyExists:
      return "JobAlreadyExists";
    case Errc::kInvalidJobState:
      return "InvalidJobState";
    case Errc::kInvalidJobRevision:
      return "InvalidJobRevision";
    case Errc::kJobAlreadyTerminal:
      return "JobAlreadyTerminal";
    case Errc::kExecutionNotFound:
      return "ExecutionNotFound";
    case Errc::kExecutionAlreadyExists:
      return "ExecutionAlreadyExists";
    case Errc::kInvalidExecutionState:
      return "InvalidExecutionState";
    case Errc::kInvalidExecutionVersion:
      return "InvalidExecutionVersion";
    case Errc::kExecutionAlreadyTerminal:
      return "ExecutionAlreadyTerminal";
    case Errc::kEvaluationNotFound:
      return "EvaluationNotFound";
    case Errc::kEvaluationAlreadyExists:
      return "EvaluationAlreadyExists";
    case Errc::kInvalidArgument:
      return "InvalidArgument";
    case Errc::kBadRecord:
      return "BadRecord";
    case Errc::kLocked:
      return "Locked";
    case Errc::kStorage:
      return "Storage";
  }
  return "Unknown";
}

Error Error::FromStatus(const Status& s) {
  if (s.ok()) return {};
  return Error(Errc::kStorage, s.ToString());
}

std::string Error::ToString() const {
  if (ok()) return "OK";
  return std::string(ErrcName(code_)) + ": " + message_;
}

std::string_view LocalStateName(LocalState s) { return NameOf(kLocalStateNames, int(s)); }
std::optional<LocalState> ParseLocalState(std::string_view name) {
  for (size_t i = 0; i < kLocalStateNames.size(); ++i) {
    if (EqualsIgnoreCase(name, kLocalStateNames[i])) return LocalState(i);
  }
  return std::nullopt;
}
bool IsTerminal(LocalState s) {
  return s == LocalState::kCompleted || s == LocalState::kFailed || s == LocalState::kCancelled;
}
bool IsExecuting(LocalState s) {
  return s == LocalState::kRunning || s == LocalState::kWaitingVerification ||
         s == LocalState::kResultAccepted || s == LocalState::kPublishing;
}
bool IsActive(LocalState s) { return s >= LocalState::kCreated && s <= LocalState::kPublishing; }

std::string_view JobStateName(JobState s) { return NameOf(kJobStateNames, int(s)); }
std::optional<JobState> ParseJobState(std::string_view name) {
  for (size_t i = 0; i < kJobStateNames.size(); ++i) {
    if (EqualsIgnoreCase(name, kJobStateNames[i])) return JobState(i);
  }
  return std::nullopt;
}
bool IsTerminal(JobState s) {
  return s == JobState::kCompleted || s == JobState::kFailed || s == JobState::kStopped;
}

std::string_view ExecStateName(ExecState s) { return NameOf(kExecStateNames, int(s)); }
bool IsTerminal(ExecState s) {
  return s == ExecState::kCompleted || s == ExecState::kFailed || s == ExecState::kCancelled ||
         s == ExecState::kAskForBidRejected || s == ExecState::kBidRejected;
}
std::string_view DesiredStateName(DesiredState s) { return NameOf(kDesiredStateNames, int(s)); }

// ---- time ----

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatRfc3339Nano(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1'000'000'000;
  int64_t nanos = unix_nanos % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

std::optional<int64_t> ParseRfc3339(std::string_view s) {
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    if (pos + len > s.size()) return std::nullopt;
    int v = 0;
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, v);
    if (r.ec != std::errc() || r.ptr != s.data() + pos + len) return std::nullopt;
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto year = num(0, 4), month = num(5, 2), day = num(8, 2);
  auto hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_secs = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':') return std::nullopt;
    offset_secs = (*oh * 3600 + *om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  using namespace std::chrono;
  auto ymd = year_month_day{std::chrono::year(*year), std::chrono::month(unsigned(*month)),
                            std::chrono::day(unsigned(*day))};
  if (!ymd.ok()) return std::nullopt;
  int64_t days = sys_days(ymd).time_since_epoch().count();
  int64_t secs = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_secs;
  return secs * 1'000'000'000 + nanos;
}

// ---- sequence keys ----

std::string SeqKey(uint64_t seq) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i) {
    k[i] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return k;
}

std::optional<uint64_t> ParseSeqKey(std::string_view key) {
  // An 8-byte key starting below '0' is binary: a decimal key made of eight
  // digits would need a sequence past 0x3030303030303030.
  if (key.size() == 8 && static_cast<unsigned char>(key[0]) < '0') {
    uint64_t v = 0;
    for (char c : key) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
  }
  if (key.empty() || key.size() > 19) return std::nullopt;
  uint64_t v = 0;
  auto r = std::from_chars(key.data(), key.data() + key.size(), v);
  if (r.ec != std::errc() || r.ptr != key.data() + key.size()) return std::nullopt;
  return v;
}

// ---- compute documents ----

namespace {

int64_t TimeField(const Json& j, const char* name) {
  auto s = Str(j, name);
  if (s.empty()) return 0;
  return ParseRfc3339(s).value_or(0);
}

}  // namespace

std::string LocalExecutionState::id() const {
  return execution.is_object() ? Str(execution, "ID") : std::string();
}
std::string LocalExecutionState::job_id() const {
  return execution.is_object() ? Str(execution, "JobID") : std::string();
}

Json LocalExecutionState::ToJson() const {
  Json j = Json::object();
  j["Execution"] = execution;
  j["RequesterNodeID"] = requester_node_id;
  j["State"] = static_cast<int>(state);
  j["Version"] = version;
  j["CreateTime"] = FormatRfc3339Nano(create_time);
  j["UpdateTime"] = FormatRfc3339Nano(update_time);
  j["LatestComment"] = latest_comment;
  return j;
}

Expected<LocalExecutionState> LocalExecutionState::FromJson(const Json& j) {
  if (!j.is_object()) return Error(Errc::kBadRecord, "execution record is not an object");
  LocalExecutionState s;
  auto it = j.find("Execution");
  if (it != j.end()) s.execution = *it;
  s.requester_node_id = Str(j, "RequesterNodeID");
  auto st = j.find("State");
  if (st == j.end() || !st->is_number_integer()) {
    return Error(Errc::kBadRecord, "execution record has no integer State");
  }
  s.state = LocalState(st->get<int>());
  auto v = j.find("Version");
  if (v != j.end() && v->is_number_integer()) s.version = v->get<uint64_t>();
  s.create_time = TimeField(j, "CreateTime");
  s.update_time = TimeField(j, "UpdateTime");
  s.latest_comment = Str(j, "LatestComment");
  return s;
}

Json LocalStateHistory::ToJson() const {
  Json j = Json::object();
  j["ExecutionID"] = execution_id;
  j["PreviousState"] = static_cast<int>(previous_state);
  j["NewState"] = static_cast<int>(new_state);
  j["NewVersion"] = new_version;
  j["Comment"] = comment;
  j["Time"] = FormatRfc3339Nano(time);
  return j;
}

Expected<LocalStateHistory> LocalStateHistory::FromJson(const Json& j) {
  if (!j.is_object()) return Error(Errc::kBadRecord, "history record is not an object");
  LocalStateHistory h;
  h.execution_id = Str(j, "ExecutionID");
  auto num = [&](const char* name) -> int64_t {
    auto it = j.find(name);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  h.previous_state = LocalState(num("PreviousState"));
  h.new_state = LocalState(num("NewState"));
  h.new_version = static_cast<uint64_t>(num("NewVersion"));
  h.comment = Str(j, "Comment");
  h.time = TimeField(j, "Time");
  return h;
}

std::optional<LocalState> ExtractLocalState(std::string_view doc) {
  static constexpr std::string_view kNeedle = "\"State\":";
  size_t pos = doc.rfind(kNeedle);
  if (pos != std::string_view::npos) {
    size_t p = pos + kNeedle.size();
    while (p < doc.size() && doc[p] == ' ') ++p;
    int v = 0;
    auto r = std::from_chars(doc.data() + p, doc.data() + doc.size(), v);
    // The top-level State is followed by `,"Version"` in Go's field order.
    if (r.ec == std::errc() &&
        std::string_view(r.ptr, doc.data() + doc.size() - r.ptr).starts_with(",\"Version\":")) {
      return LocalState(v);
    }
  }
  Json j = Json::parse(doc, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto st = j.find("State");
  if (st == j.end() || !st->is_number_integer()) return std::nullopt;
  return LocalState(st->get<int>());
}

std::string Str(const Json& j, const char* name) {
  if (!j.is_object()) return {};
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const Json& j, const char* name) {
  if (!j.is_object()) return 0;
  auto it = j.find(name);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

}  // namespace boltpp::jobstore
