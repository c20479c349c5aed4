// Durable file writing shared by the CAR tools and the applications built on
// them (the DAG store): full writes and write-to-temporary-then-rename.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "boltpp/status.h"

namespace boltpp::car {

// Writes every byte of `data` to fd, retrying short writes and EINTR.
// Errors: kIOError "write <what>: <reason>".
Status WriteAll(int fd, std::string_view data, const std::string& what);

// Takes the next piece of a file being written; returns the write's status.
using PieceWriter = std::function<Status(std::string_view piece)>;

// Creates or replaces `path` so that a crash leaves either the old file or
// the whole new one: writes `path.tmp` through `fill` (which hands its pieces
// to the PieceWriter and returns the first failure), fsyncs it, renames it
// over `path` and fsyncs the directory. On failure `path.tmp` is removed.
Status WriteFileAtomically(const std::string& path,
                           const std::function<Status(const PieceWriter&)>& fill);
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace boltpp::car
