// Reading CARv1 and CARv2 files (apps-spec 3.3, 3.4) section by section,
// from a seekable file (pread), from bytes in memory, or from a stream
// (a file descriptor such as stdin, read through a buffer).
//
// Every damaged input gives a kCorruption Status whose message names what is
// wrong and the absolute byte offset in the input ("section at byte 4096:
// length 9000000 exceeds the 8 MiB limit"); the reader never reads out of
// bounds. Limits are go-car's and can be changed through ReadOptions.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "boltpp/car/cid.h"
#include "boltpp/status.h"

namespace boltpp::car {

inline constexpr uint64_t kMaxHeaderSize = 32 << 20;   // go-car DefaultMaxAllowedHeaderSize
inline constexpr uint64_t kMaxSectionSize = 8 << 20;   // go-car DefaultMaxAllowedSectionSize
inline constexpr uint64_t kMaxIndexCidSize = 2 << 10;  // go-car DefaultMaxIndexCidSize
inline constexpr uint64_t kPragmaSize = 11;
inline constexpr uint64_t kV2HeaderSize = 40;
// The CARv2 pragma: a CARv1-style header {"version": 2} of length 10.
inline constexpr std::array<uint8_t, kPragmaSize> kV2Pragma = {0x0a, 0xa1, 0x67, 'v', 'e', 'r',
                                                               's',  'i',  'o',  'n', 0x02};

struct ReadOptions {
  // A section length of 0 ends the data (Filecoin pieces: CAR + zero padding).
  // Off: a zero-length section is an error.
  bool zero_length_section_as_eof = false;
  uint64_t max_header_size = kMaxHeaderSize;
  uint64_t max_section_size = kMaxSectionSize;
};

// The 40-byte CARv2 header (all little-endian on disk).
struct V2Header {
  std::array<uint8_t, 16> characteristics{};  // Hi u64 then Lo u64
  uint64_t data_offset = 0;
  uint64_t data_size = 0;
  uint64_t index_offset = 0;  // 0: no index
  bool fully_indexed() const { return (characteristics[0] & 0x80) != 0; }
  bool has_index() const { return index_offset != 0; }
};

// One section: uvarint(length) ++ CID ++ block. Offsets are relative to the
// start of the CARv1 payload (byte 0 of a CARv1, data_offset of a CARv2),
// as index offsets are. The spans stay valid until the next call on the
// reader that produced them (for OpenBytes: while the bytes live).
struct Section {
  uint64_t offset = 0;  // at the length varint
  uint64_t length = 0;  // the varint's value: CID bytes + block bytes
  uint32_t varint_size = 0;
  CidInfo cid_info;
  std::span<const uint8_t> cid;
  std::span<const uint8_t> block;  // empty when the block was skipped
  uint64_t block_offset() const { return offset + varint_size + cid_info.size; }
  uint64_t block_size() const { return length - cid_info.size; }
  uint64_t end() const { return offset + varint_size + length; }
};

class ByteSource;  // src/source.h

class CarReader {
 public:
  // Reads the file with pread.
  static Result<std::unique_ptr<CarReader>> OpenFile(const std::string& path,
                                                     ReadOptions opts = {});
  // Reading a file uses pread through a window (1 MiB, or 4 KiB while sections
  // are large and blocks are skipped), so memory stays small whatever the
  // file's size. Reads `bytes` in place: they must outlive the reader.
  static Result<std::unique_ptr<CarReader>> OpenBytes(std::span<const uint8_t> bytes,
                                                      ReadOptions opts = {});
  // Reads forward from fd through a buffer (not seekable; fd is not closed).
  static Result<std::unique_ptr<CarReader>> OpenStream(int fd, ReadOptions opts = {});
  ~CarReader();
  CarReader(const CarReader&) = delete;
  CarReader& operator=(const CarReader&) = delete;

  int version() const { return version_; }  // 1 or 2
  const std::vector<Cid>& roots() const { return roots_; }
  const std::optional<V2Header>& v2_header() const { return v2_; }
  // Absolute offset of the payload (0 for a CARv1).
  uint64_t payload_offset() const { return payload_offset_; }
  // Payload length: data_size for a CARv2, the file size for a seekable
  // CARv1, UINT64_MAX for a streamed CARv1 (until its end).
  uint64_t payload_size() const { return payload_size_; }
  // Payload-relative offset of the first section (just past the v1 header).
  uint64_t first_section_offset() const { return first_section_; }
  bool seekable() const;
  // The input's size in bytes (UINT64_MAX for a stream).
  uint64_t input_size() const;

  // Reads the next section into *out: true, or false at the end of the data.
  // want_block = false lets a stream skip the block bytes (out->block empty).
  Result<bool> Next(Section* out, bool want_block = true);
  // Restarts iteration at the first section (seekable only).
  Status Rewind();
  // Seekable only: the section whose length varint is at payload offset `offset`.
  Result<Section> ReadSectionAt(uint64_t offset);
  // Seekable CARv2 with an index: the index bytes (codec varint + body), to
  // the end of the input.
  Result<std::string> IndexBytes();
  // Seekable CARv2 with an index: the index codec varint at the index offset
  // (reads at most 10 bytes; kCorruption when it is truncated or overlong).
  Result<uint64_t> IndexCodec();

 private:
  CarReader(std::unique_ptr<ByteSource> source, ReadOptions opts);
  Status ReadHeaders();
  Status ParseSection(uint64_t rel, Section* out, bool want_block, bool* end);

  std::unique_ptr<ByteSource> source_;
  ReadOptions opts_;
  int version_ = 0;
  std::vector<Cid> roots_;
  std::optional<V2Header> v2_;
  uint64_t payload_offset_ = 0;
  uint64_t payload_size_ = 0;
  uint64_t first_section_ = 0;
  uint64_t next_ = 0;  // payload-relative offset of the next section
  bool done_ = false;
  uint64_t last_length_ = 0;  // the previous section's length (read-ahead hint)
};

// CARv1 header bytes: uvarint(length) ++ DAG-CBOR {"roots": [...], "version": 1}.
std::string EncodeV1Header(std::span<const Cid> roots);
// The CARv2 pragma ++ 40-byte header.
std::string EncodeV2Header(const V2Header& h);
// Parses a DAG-CBOR CAR header body (without its length varint): sets
// *version and *roots. `base` is the absolute offset of body[0], for messages.
Status DecodeHeaderBody(std::span<const uint8_t> body, uint64_t base, uint64_t* version,
                        std::vector<Cid>* roots, bool* has_roots);

}  // namespace boltpp::car
