// File: src/status.cc
#include "boltpp/status.h"

namespace boltpp {

std::string_view CodeMessage(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kDatabaseNotOpen:
      return "database not open";
    case Code::kInvalid:
      return "invalid database";
    case Code::kInvalidMapping:
      return "database isn't correctly mapped";
    case Code::kVersionMismatch:
      return "version mismatch";
    case Code::kChecksum:
      return "checksum error";
    case Code::kTimeout:
      return "timeout";
    case Code::kTxNotWritable:
      return "tx not writable";
    case Code::kTxClosed:
      return "tx closed";
    case Code::kDatabaseReadOnly:
      return "database is in read-only mode";
    case Code::kFreePagesNotLoaded:
      return "free pages are not pre-loaded";
    case Code::kBucketNotFound:
      return "bucket not found";
    case Code::kBucketExists:
      return "bucket already exists";
    case Code::kBucketNameRequired:
      return "bucket name required";
    case Code::kKeyRequired:
      return "key required";
    case Code::kKeyTooLarge:
      return "key too large";
    case Code::kValueTooLarge:
      return "value too large";
    case Code::kIncompatibleValue:
      return "incompatible value";
    case Code::kSameBuckets:
      return "the source and target are the same bucket";
    case Code::kDifferentDB:
      return "the source and target buckets are in different database files";
    case Code::kMaxSizeReached:
      return "database reached maximum size";
    case Code::kCorruption:
      return "database is damaged";
    case Code::kIOError:
      return "I/O error";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kDatabaseFailed:
      return "database failed: an earlier commit could not be made durable; reopen it";
    case Code::kAborted:
      return "aborted";
  }
  return "unknown error";
}

std::string Status::ToString() const {
  if ((code_ == Code::kCorruption || code_ == Code::kIOError || code_ == Code::kAborted ||
       code_ == Code::kInvalidArgument) &&
      !detail_.empty()) {
    return detail_;
  }
  std::string s(CodeMessage(code_));
  if (!detail_.empty()) {
    s += ": ";
    s += detail_;
  }
  return s;
}

}  // namespace boltpp
