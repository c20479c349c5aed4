// bench/src/engines.cc: which adapters this build has (set by CMake).
#include <memory>
#include <string>
#include <vector>

#include "engine.h"

namespace bench {

#ifdef BENCH_HAVE_BOLTPP
std::unique_ptr<Engine> NewBoltppEngine(bool wal);
#endif
#ifdef BENCH_HAVE_LMDB
std::unique_ptr<Engine> NewLmdbEngine();
#endif
#ifdef BENCH_HAVE_ROCKSDB
std::unique_ptr<Engine> NewRocksdbEngine();
#endif
#ifdef BENCH_HAVE_SQLITE
std::unique_ptr<Engine> NewSqliteEngine(bool wal);
#endif

std::unique_ptr<Engine> MakeEngine(const std::string& name) {
#ifdef BENCH_HAVE_BOLTPP
  if (name == "boltpp") return NewBoltppEngine(false);
  if (name == "boltpp-wal") return NewBoltppEngine(true);
#endif
#ifdef BENCH_HAVE_LMDB
  if (name == "lmdb") return NewLmdbEngine();
#endif
#ifdef BENCH_HAVE_ROCKSDB
  if (name == "rocksdb") return NewRocksdbEngine();
#endif
#ifdef BENCH_HAVE_SQLITE
  if (name == "sqlite") return NewSqliteEngine(false);
  if (name == "sqlite-wal") return NewSqliteEngine(true);
#endif
  (void)name;
  return nullptr;
}

std::vector<std::string> CompiledEngines() {
  std::vector<std::string> v;
#ifdef BENCH_HAVE_BOLTPP
  v.push_back("boltpp");
  v.push_back("boltpp-wal");
#endif
#ifdef BENCH_HAVE_LMDB
  v.push_back("lmdb");
#endif
#ifdef BENCH_HAVE_ROCKSDB
  v.push_back("rocksdb");
#endif
#ifdef BENCH_HAVE_SQLITE
  v.push_back("sqlite");
  v.push_back("sqlite-wal");
#endif
  return v;
}

}  // namespace bench
