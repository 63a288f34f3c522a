#pragma once

// The SecretStore conformance suite: the contract of storage/store.h as tests. Every backend runs
// it, so the service (and the in-memory fake) can rely on one behaviour.
//
// The TEST_P bodies live in storage/store_conformance_test.cc. To run them against a backend:
//   1. Compile store_conformance_test.cc into the backend's test binary, exactly once per binary
//      (twice would register every test twice). Backends under src/storage/ get this for free:
//      every *_test.cc of the folder goes into coffer_storage_tests. A binary elsewhere, such as a
//      future coffer_storage_pgtests for PostgreSQL, lists
//      ${PROJECT_SOURCE_DIR}/src/storage/store_conformance_test.cc among its sources.
//   2. Instantiate the suite with a factory that returns a fresh, empty store on every call:
//        INSTANTIATE_TEST_SUITE_P(
//            Postgres, SecretStoreConformance,
//            ::testing::Values(coffer::storage::StoreFactory{"postgres", &MakePostgresFromEnv}),
//            coffer::storage::StoreFactoryName);
//      See storage/sqlite/sqlite_store_test.cc for the SQLite instantiation.

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "storage/store.h"

namespace coffer::storage {

struct StoreFactory {
  std::string name;  // test-name suffix: letters, digits and '_' only
  std::function<std::unique_ptr<SecretStore>()> make;
};

// gtest prints the parameter of a failing test with this.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

class SecretStoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr) << "the store factory returned no store";
  }
  void TearDown() override { store_.reset(); }

  SecretStore& store() { return *store_; }

  std::unique_ptr<SecretStore> store_;
};

}  // namespace coffer::storage
