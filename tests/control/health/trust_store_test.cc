// TrustStores (control/health/trust_store.h): a CA file is read once however many checks use it,
// read again when it changes, and a missing or unusable file is an error naming it.
#include "control/health/trust_store.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/control/health/health_checker_test_support.h"

namespace sextant::control::health_checker_test {
namespace {

using health::TrustStores;
using ::testing::HasSubstr;

class TrustStoresTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override { std::system(absl::StrCat("rm -rf ", dir_).c_str()); }

  // A self-signed certificate for `cn` into `path`.
  static void MakeCert(const std::string& path, const std::string& cn) {
    const std::string cmd = absl::StrCat(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=",
        cn, " -keyout ", path, ".key -out ", path, " >/dev/null 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  // The subjects the store holds.
  static std::string Subjects(X509_STORE* store) {
    std::string out;
    STACK_OF(X509_OBJECT)* objs = X509_STORE_get0_objects(store);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); ++i) {
      X509* x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
      if (x == nullptr) continue;
      char buf[256];
      X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf));
      out += buf;
    }
    return out;
  }

  std::string dir_;
};

TEST_F(TrustStoresTest, OneFileIsReadOnceAndAgainWhenItChanges) {
  const std::string ca = dir_ + "/ca.pem";
  MakeCert(ca, "first.example.test");
  TrustStores t;
  absl::StatusOr<X509_STORE*> a = t.Get(ca);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(Subjects(*a), HasSubstr("first.example.test"));
  for (int i = 0; i < 50; ++i) ASSERT_EQ(*t.Get(ca), *a);
  EXPECT_EQ(t.loads(), 1);

  // Renewed in place (a new inode, as an atomic replace makes): read again on the next Get.
  MakeCert(dir_ + "/next.pem", "second.example.test");
  ASSERT_EQ(std::rename((dir_ + "/next.pem").c_str(), ca.c_str()), 0);
  absl::StatusOr<X509_STORE*> b = t.Get(ca);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(Subjects(*b), HasSubstr("second.example.test"));
  EXPECT_EQ(t.loads(), 2);
}

TEST_F(TrustStoresTest, TheSystemBundleIsReadOnce) {
  TrustStores t;
  absl::StatusOr<X509_STORE*> a = t.Get("");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GT(sk_X509_OBJECT_num(X509_STORE_get0_objects(*a)), 10);  // ca-certificates
  ASSERT_TRUE(t.Get("").ok());
  EXPECT_EQ(t.loads(), 1);
}

TEST_F(TrustStoresTest, MissingOrUnusableFilesAreErrorsThatNameThem) {
  TrustStores t;
  absl::StatusOr<X509_STORE*> missing = t.Get(dir_ + "/none.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr(dir_ + "/none.pem"));
  EXPECT_THAT(missing.status().message(), HasSubstr("No such file"));

  const std::string junk = dir_ + "/junk.pem";
  std::ofstream(junk)
      << "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  absl::StatusOr<X509_STORE*> bad = t.Get(junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr(junk));

  // Fixed: the next Get reads it.
  MakeCert(junk, "fixed.example.test");
  absl::StatusOr<X509_STORE*> fixed = t.Get(junk);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_THAT(Subjects(*fixed), HasSubstr("fixed.example.test"));
}

}  // namespace
}  // namespace sextant::control::health_checker_test
