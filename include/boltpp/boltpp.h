// File: boltpp/boltpp.h
// The whole public API of boltpp: an embedded transactional key/value store
// on Go bbolt's file format. Start with db.h.
#pragma once

#include "boltpp/bucket.h"
#include "boltpp/db.h"
#include "boltpp/file.h"
#include "boltpp/options.h"
#include "boltpp/stats.h"
#include "boltpp/status.h"
#include "boltpp/tx.h"
#include "boltpp/version.h"
