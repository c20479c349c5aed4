// Mounts (apps-spec 2.4): where a shard's bytes come from.
//   file:///abs/path   seekable, read in place
//   http://host[:port]/path   streamed into transients/transient-<key>.partial-<n>
//                             (n unique per fetch), renamed .complete when the
//                             whole body arrived
#pragma once

#include <chrono>
#include <string>

#include "boltpp/status.h"

namespace boltpp::dagstore {

// Checks that `url` has a supported scheme and a usable form.
Status ValidateMountUrl(const std::string& url);

// True when `path` is an in-progress download of `transient_complete`
// (its stem + ".partial-" + digits).
bool IsPartialOf(const std::string& path, const std::string& transient_complete);

// True while a download of this process writes `path` (its .partial-<n>).
// One process owns a store (the datastore's lock), so any other partial
// file in transients/ is an orphan of a crash or a cut transfer.
bool IsDownloadInProgress(const std::string& path);

// True for mounts that are read through a transient copy.
bool NeedsTransient(const std::string& url);

// Returns the path of the shard's bytes. For http:// mounts: reuses
// `transient_complete` when it exists, else downloads to
// a `.partial-<n>` sibling unique to this fetch and renames it into place.
Result<std::string> FetchShardData(const std::string& url, const std::string& transient_complete,
                                   std::chrono::milliseconds timeout);

}  // namespace boltpp::dagstore
