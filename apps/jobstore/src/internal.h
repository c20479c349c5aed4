// File: apps/jobstore/src/internal.h
// Helpers shared by the two stores and verify (not installed).
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "boltpp/boltpp.h"
#include "boltpp/jobstore/errors.h"
#include "boltpp/jobstore/model.h"
#include "group_commit.h"

namespace boltpp::jobstore::internal {

// A storage failure as an Error.
inline Error StorageError(const Status& s) { return Error::FromStatus(s); }

// Marks a store's Error on its way out of a transaction callback: guard
// failures (which the stores report before writing anything) end the
// transaction with kAborted so that it rolls back.
inline Status AbortWith(const Error& e) {
  if (e.ok()) return Status::OK();
  return Status(Code::kAborted, e.ToString());
}

// The tree nlohmann's parser gives for text when text is canonical (one
// JSON value exactly as nlohmann's dump writes it: src/record_scan.h), built
// directly; nullopt for any other text. Dump(*result) == text.
std::optional<Json> ParseCanonicalJson(std::string_view text);

// The document in text (the canonical builder above, else nlohmann's parser).
inline Expected<Json> ParseJson(std::string_view text, std::string_view what) {
  if (auto canonical = ParseCanonicalJson(text)) return std::move(*canonical);
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(Errc::kBadRecord, std::string(what) + ": invalid JSON");
  return j;
}

// The stores' encoding: nlohmann's dump (no indent, UTF-8 kept, invalid
// UTF-8 replaced). DumpJson (src/record_scan.cc) writes the same bytes
// directly for trees without floats (nlohmann's serializer writes those).
std::string DumpJson(const Json& j);
inline std::string Dump(const Json& j) { return DumpJson(j); }

// One history row: its numeric sequence, raw key and document text.
struct SeqRow {
  uint64_t seq = 0;
  std::string key;
  std::string value;
};

// Every key of a history bucket, in numeric order of the sequence (8-byte
// big-endian and legacy decimal keys mixed). Keys that are neither are put
// last with seq 0 (verify reports them).
inline std::vector<SeqRow> ReadSeqRows(Bucket b) {
  std::vector<SeqRow> rows;
  if (!b) return rows;
  auto c = b.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    if (e->is_bucket) continue;
    rows.push_back({ParseSeqKey(e->key).value_or(0), std::string(e->key), std::string(e->value)});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const SeqRow& x, const SeqRow& y) {
    if ((x.seq == 0) != (y.seq == 0)) return y.seq == 0;
    return x.seq < y.seq;
  });
  return rows;
}

// ReadSeqRows without copies: the views are valid in b's transaction.
struct SeqRowView {
  uint64_t seq = 0;
  std::string_view key;
  std::string_view value;
};
inline std::vector<SeqRowView> ReadSeqRowViews(Bucket b) {
  std::vector<SeqRowView> rows;
  if (!b) return rows;
  auto c = b.NewCursor();
  bool ordered = true;  // true while the keys' sequences increase (no re-sort)
  for (auto e = c.First(); e; e = c.Next()) {
    if (e->is_bucket) continue;
    const uint64_t seq = ParseSeqKey(e->key).value_or(0);
    if (!rows.empty() && (seq == 0 || rows.back().seq == 0 || seq < rows.back().seq)) {
      ordered = false;
    }
    rows.push_back({seq, e->key, e->value});
  }
  if (!ordered) {
    std::stable_sort(rows.begin(), rows.end(), [](const SeqRowView& x, const SeqRowView& y) {
      if ((x.seq == 0) != (y.seq == 0)) return y.seq == 0;
      return x.seq < y.seq;
    });
  }
  return rows;
}

// Appends value under the next 8-byte big-endian sequence of b.
inline Status AppendSeq(Bucket b, std::string_view value, uint64_t* seq_out = nullptr) {
  auto seq = b.NextSequence();
  if (!seq.ok()) return seq.status();
  if (seq_out) *seq_out = *seq;
  return b.Put(SeqKey(*seq), value);
}

// ASCII lower case (label keys are indexed lowercased, as the real store does).
inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Index entries are empty-valued keys in a sub-bucket per group:
// index/<group>/<key>. Adds one (creating the group bucket).
inline Status PutIndexKey(Tx& tx, std::string_view index, std::string_view group,
                          std::string_view key) {
  Bucket idx = tx.GetBucket(index);
  if (!idx) return Status(Code::kBucketNotFound, std::string(index));
  auto sub = idx.CreateBucketIfNotExists(group);
  if (!sub.ok()) return sub.status();
  return sub->Put(key, "");
}

// Removes index/<group>/<key>, and the group bucket once it is empty.
inline Status DeleteIndexKey(Tx& tx, std::string_view index, std::string_view group,
                             std::string_view key) {
  Bucket idx = tx.GetBucket(index);
  Bucket sub = idx ? idx.GetBucket(group) : Bucket();
  if (!sub) return Status::OK();
  if (Status s = sub.Delete(key); !s.ok()) return s;
  if (!sub.NewCursor().First()) return idx.DeleteBucket(group);
  return Status::OK();
}

// Runs one store operation as one write transaction, shared with concurrent
// callers through group (StoreOptions::batch) when not null. fn reports
// guard failures before writing anything: alone, its transaction rolls
// back; in a group it commits nothing of its own and the others commit.
// Storage and bad-record errors abort the (group's) transaction.
inline Error RunWrite(DB& db, GroupCommit* group, const std::function<Error(Tx&)>& fn) {
  if (group) return group->Run(fn);
  Error result;
  Status s = db.Update([&](Tx& tx) -> Status {
    result = fn(tx);
    return AbortWith(result);
  });
  if (!result.ok()) return result;
  return StorageError(s);
}

inline bool ValidId(std::string_view id) {
  if (id.empty()) return false;
  return std::none_of(id.begin(), id.end(), [](char c) { return c == ' ' || c == '\0'; });
}

}  // namespace boltpp::jobstore::internal
