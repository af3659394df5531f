// Specification of the file reader every loader uses: regular files only,
// never blocking on a FIFO, bounded, symlinks followed or refused on request.
#include "files/read_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace ringgate::files {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ringgate-files-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& contents) const {
    std::ofstream(path(name), std::ios::binary | std::ios::trunc) << contents;
    return path(name);
  }

  std::string dir_;
};

TEST_F(ReadFileTest, ReadFile_ReadsAWholeRegularFile) {
  const std::string file = write("token", std::string("secret\0bytes\n", 13));

  FileResult result = read_regular_file(file, 64);

  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(result.contents, std::string("secret\0bytes\n", 13));
  EXPECT_EQ(result.path, file);
}

TEST_F(ReadFileTest, ReadFile_RefusesAFifoWithoutWaitingForAWriter) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();

  FileResult result = read_regular_file(path("fifo"), 64);

  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(result.error, FileError::kNotRegular);
  EXPECT_EQ(result.message(),
            "cannot read \"" + path("fifo") + "\": is a FIFO, not a regular file");
}

TEST_F(ReadFileTest, ReadFile_RefusesADirectory) {
  FileResult result = read_regular_file(dir_, 64);

  EXPECT_EQ(result.error, FileError::kNotRegular);
  EXPECT_EQ(result.reason, "is a directory, not a regular file");
}

TEST_F(ReadFileTest, ReadFile_RefusesACharacterDevice) {
  FileResult result = read_regular_file("/dev/zero", 64);

  EXPECT_EQ(result.error, FileError::kNotRegular);
  EXPECT_EQ(result.reason, "is a character device, not a regular file");
}

TEST_F(ReadFileTest, ReadFile_RefusesAUnixSocket) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string socket_path = path("sock");
  ASSERT_LT(socket_path.size(), sizeof address.sun_path);
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);

  FileResult result = read_regular_file(socket_path, 64);
  ::close(fd);

  EXPECT_EQ(result.error, FileError::kNotRegular);
  EXPECT_EQ(result.reason, "is a socket, not a regular file");
}

TEST_F(ReadFileTest, ReadFile_NamesTheOsReasonForAMissingFile) {
  FileResult result = read_regular_file(path("absent"), 64);

  EXPECT_EQ(result.error, FileError::kOpen);
  EXPECT_EQ(result.message(), "cannot read \"" + path("absent") + "\": No such file or directory");
}

TEST_F(ReadFileTest, ReadFile_RefusesAFileLargerThanTheLimit) {
  const std::string file = write("big", std::string(65, 'x'));

  FileResult result = read_regular_file(file, 64);

  EXPECT_EQ(result.error, FileError::kTooLarge);
  EXPECT_EQ(result.reason, "larger than 64 bytes");
  EXPECT_TRUE(result.contents.empty());
}

TEST_F(ReadFileTest, ReadFile_AcceptsAFileExactlyAtTheLimit) {
  const std::string file = write("full", std::string(64, 'x'));

  FileResult result = read_regular_file(file, 64);

  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(result.contents.size(), 64u);
}

TEST_F(ReadFileTest, ReadFile_FollowsASymlinkToARegularFileByDefault) {
  write("cert.pem", "PEM");
  fs::create_symlink(path("cert.pem"), path("live.pem"));

  FileResult result = read_regular_file(path("live.pem"), 64);

  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(result.contents, "PEM");
}

TEST_F(ReadFileTest, ReadFile_RefusesASymlinkWhenAskedTo) {
  write("cert.pem", "PEM");
  fs::create_symlink(path("cert.pem"), path("planted.pem"));

  FileResult result = read_regular_file(path("planted.pem"), 64, Symlinks::kRefuse);

  EXPECT_EQ(result.error, FileError::kNotRegular);
  EXPECT_THAT(result.reason, HasSubstr("is a symbolic link"));
  EXPECT_TRUE(result.contents.empty());
}

TEST_F(ReadFileTest, ReadFile_RefusesASymlinkToAFifoEvenWhenFollowing) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  fs::create_symlink(path("fifo"), path("link"));

  FileResult result = read_regular_file(path("link"), 64);

  EXPECT_EQ(result.reason, "is a FIFO, not a regular file");
}

TEST_F(ReadFileTest, CheckFile_AcceptsARegularFileWithoutReadingIt) {
  const std::string file = write("big", std::string(1000, 'x'));

  FileResult result = check_regular_file(file);

  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_TRUE(result.contents.empty());
}

TEST_F(ReadFileTest, CheckFile_RefusesAFifo) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);

  FileResult result = check_regular_file(path("fifo"));

  EXPECT_EQ(result.reason, "is a FIFO, not a regular file");
}

}  // namespace
}  // namespace ringgate::files
