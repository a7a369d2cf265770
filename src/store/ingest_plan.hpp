// What ingest reads and who reads it: input files (CSV, compressed CSV, Parquet) listed from the
// arguments, cut into pieces (a big file into byte ranges or row-group ranges) that the ranks
// parse in parallel, so one big long-format file is read once in total, not once per rank.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tickstream {

struct InputFile {
  std::string path;
  int64_t bytes = 0;
};

enum class InputFormat { Csv, Parquet };  // CSV covers .gz and .zst (store/byte_source.hpp)

// By the name: *.parquet / *.pq -> Parquet, anything else CSV.
InputFormat input_format(const std::string& path);

// A name a directory contributes: *.csv, *.CSV, *.txt, each optionally .gz or .zst, *.parquet, *.pq.
bool is_input_name(const std::string& name);

// Arguments in order, directories expanded to their sorted input files (is_input_name).
std::vector<InputFile> list_inputs(const std::vector<std::string>& inputs);

struct InputPiece {
  int32_t file = 0;      // index in the input list
  bool whole = true;     // the whole file (no renumbering of lines needed)
  int64_t begin = 0;     // split CSV: the lines starting in bytes [begin, end)
  int64_t end = 0;
  int first_group = 0;   // split Parquet: row groups [first_group, first_group + groups)
  int groups = -1;
  int64_t weight = 0;    // bytes, for balancing over the ranks
};

inline constexpr int64_t kMinPieceBytes = int64_t{16} << 20;

// Every input as pieces, in file order, for `parsers` parsers (ranks x threads). With one parser
// each file is one piece; otherwise an uncompressed CSV or a Parquet file larger than 1.5 x the
// piece size (the inputs' bytes / 4 per parser, at least `min_piece_bytes`) is split into pieces of about that size (Parquet: whole row groups; a
// compressed stream cannot be split). Parquet footers are read only for files that may be split.
std::vector<InputPiece> plan_pieces(const std::vector<InputFile>& files, int parsers,
                                    int64_t min_piece_bytes = kMinPieceBytes);

}  // namespace tickstream
