# Included from apps/jobstore/CMakeLists.txt when the test toolkit exists.
# One gtest binary, boltpp_jobstore_tests. The Go helper (jobsfixture, Go
# bbolt 1.3.6 in GOPATH mode) runs bbolt's check on the files the stores write;
# without Go those checks skip (or fail when CI=true).
find_package(GTest REQUIRED)
include(GoogleTest)

add_executable(boltpp_jobstore_tests
  tests/helpers.cc
  tests/execution_store_test.cc
  tests/job_store_test.cc
  tests/verify_test.cc
  tests/cli_test.cc
  tests/wal_test.cc
  tests/record_scan_test.cc
  tests/query_paths_test.cc
)
target_link_libraries(boltpp_jobstore_tests PRIVATE boltpp::jobstore boltpp_testutil
                      GTest::gtest_main Threads::Threads)
target_compile_options(boltpp_jobstore_tests PRIVATE ${BOLTPP_WARNINGS})
add_dependencies(boltpp_jobstore_tests boltpp_jobs)

set(BOLTPP_JOBS_GOPATH "/usr/share/gocode" CACHE PATH "GOPATH holding go.etcd.io/bbolt for jobsfixture")
find_program(BOLTPP_JOBS_GO NAMES go go-1.19)
set(_jobsfixture ${CMAKE_CURRENT_BINARY_DIR}/jobsfixture)
if(BOLTPP_JOBS_GO AND EXISTS ${BOLTPP_JOBS_GOPATH}/src/go.etcd.io/bbolt/db.go)
  add_custom_command(
    OUTPUT ${_jobsfixture}
    COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOPATH=${BOLTPP_JOBS_GOPATH} GOFLAGS=
            CGO_ENABLED=0 GOCACHE=${CMAKE_CURRENT_BINARY_DIR}/go-cache
            ${BOLTPP_JOBS_GO} build -p 1 -o ${_jobsfixture} .
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/tests/go/jobsfixture
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/go/jobsfixture/main.go
    COMMENT "Building Go helper jobsfixture against bbolt in ${BOLTPP_JOBS_GOPATH}"
    VERBATIM)
  add_custom_target(boltpp_jobstore_go DEPENDS ${_jobsfixture})
  add_dependencies(boltpp_jobstore_tests boltpp_jobstore_go)
  set(_jobsfixture_define ${_jobsfixture})
else()
  set(_jobsfixture_define "")
endif()

target_compile_definitions(boltpp_jobstore_tests PRIVATE
  JOBS_TESTDATA="${CMAKE_CURRENT_SOURCE_DIR}/testdata"
  JOBS_CLI="$<TARGET_FILE:boltpp_jobs>"
  JOBS_GO_FIXTURE="${_jobsfixture_define}")

gtest_discover_tests(boltpp_jobstore_tests
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS "jobstore" TIMEOUT 300)
