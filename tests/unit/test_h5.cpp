// HDF5 RAII layer: handles closed, errors carry the HDF5 stack, attributes and strings round-trip.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "core/partition.hpp"
#include "store/h5.hpp"
#include "store/store_reader.hpp"
#include "store/store_writer.hpp"

namespace tickstream {
namespace {

std::string temp_file(const std::string& name) { return ::testing::TempDir() + "/ts_h5_" + name; }

TEST(H5, AttributesAndStringsRoundTrip) {
  const std::string path = temp_file("attrs.h5");
  {
    h5::File f = h5::File::create(path);
    h5::set_attr(f.id(), "s", std::string("héllo"));
    h5::set_attr(f.id(), "i", int64_t{-42});
    h5::set_attr(f.id(), "d", 0.125);
    h5::set_attr(f.id(), "list", std::vector<std::string>{"a", "bb", ""});
    h5::set_attr(f.id(), "i", int64_t{7});  // overwrite
    h5::write_strings(f, f.id(), "names", {"AAPL", "BRK.B", "X"}, true);
    f.close();
  }
  h5::File f = h5::File::open(path, false);
  EXPECT_EQ(h5::get_attr_string(f.id(), "s"), "héllo");
  EXPECT_EQ(h5::get_attr_int(f.id(), "i"), 7);
  EXPECT_EQ(h5::get_attr_double(f.id(), "d"), 0.125);
  EXPECT_EQ(h5::get_attr_strings(f.id(), "list"), (std::vector<std::string>{"a", "bb", ""}));
  EXPECT_EQ(h5::read_strings(f.id(), "names"), (std::vector<std::string>{"AAPL", "BRK.B", "X"}));
  EXPECT_TRUE(h5::exists(f.id(), "names"));
  EXPECT_FALSE(h5::exists(f.id(), "nope/deeper"));
  EXPECT_EQ(h5::attr_names(f.id()).size(), 4u);
}

TEST(H5, NoHandlesLeakAfterClose) {
  const std::string path = temp_file("leak.h5");
  StoreLayout layout;
  layout.tickers = {"A", "B"};
  layout.time = {0, 86400, 172800};
  {
    StoreWriter w(path, nullptr, layout);
    RawBlock b;
    b.resize(0, 2, 3, false);
    w.write_raw(b);
    w.close();
  }
  { StoreReader r(path); (void)r.read_raw(0, 2); }
  EXPECT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

TEST(H5, ErrorsCarryTheHdf5Stack) {
  const std::string path = temp_file("err.h5");
  h5::File f = h5::File::create(path);
  h5::create_group(f.id(), "g");
  try {
    h5::create_group(f.id(), "g");  // exists already
    FAIL() << "expected an exception";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("H5Gcreate2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("#0"), std::string::npos) << e.what();
  }
}

TEST(H5, OpeningGarbageIsAnInputError) {
  const std::string path = temp_file("garbage.h5");
  { FILE* f = std::fopen(path.c_str(), "w"); std::fputs("not hdf5", f); std::fclose(f); }
  EXPECT_THROW(StoreReader r(path), InputError);
  EXPECT_THROW(StoreReader r(temp_file("missing.h5")), InputError);
}

TEST(Partition, ContiguousAndBalanced) {
  const auto owners = balanced_owners({10, 10, 10, 10, 10, 10}, 3);
  EXPECT_EQ(owners, (std::vector<int>{0, 0, 1, 1, 2, 2}));
  const auto skewed = balanced_owners({100, 1, 1, 1, 1}, 2);
  EXPECT_EQ(skewed, (std::vector<int>{0, 1, 1, 1, 1}));
  EXPECT_EQ(owned_range(owners, 1), (std::pair<int64_t, int64_t>{2, 4}));
  const auto few = balanced_owners({1, 1}, 3);  // more ranks than items: some own nothing
  EXPECT_EQ(owned_range(few, 1).first, owned_range(few, 1).second);
}

}  // namespace
}  // namespace tickstream
