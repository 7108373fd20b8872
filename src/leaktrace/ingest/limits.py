"""Sizes that bound memory while streaming; one place so readers agree on them."""

from __future__ import annotations

BATCH_ROWS = 65_536  # rows per Batch at most
BATCH_BYTES = 16 << 20  # input bytes gathered into one Batch at most (about)
CHUNK = 4 << 20  # bytes read from disk at a time
HEAD = 64 << 10  # bytes sampled from the start of a file to detect its encoding and format
TEXT_LINE_MAX = 1 << 20  # text lines longer than this are read in pieces
# Bytes each piece of a long text line shares with its neighbours on either side, so that no
# identifier is cut: at least the longest match of the scanner's extractors (1018 characters,
# scan.text.longest_match: an e-mail's open-ended runs each taken as long as the longest
# e-mail, 254) in 4-byte UTF-8 characters; a test holds the two together.
PIECE_OVERLAP = 8 << 10
TABLE_LINE_MAX = 8 << 20  # CSV/JSONL lines longer than this are skipped
CSV_BLOCK = 8 << 20  # CSV bytes parsed at a time (about 64k rows of a typical leak)
JSON_VALUE_MAX = 64 << 20  # one element of a JSON array, or a whole non-array JSON document
SQL_TUPLE_MAX = 64 << 20  # one row of an INSERT, or one CREATE TABLE statement
PROBLEMS_PER_KIND = 50  # problems recorded one by one per kind; the rest are summarised
# Folders and archives (zip bombs, nesting, path tricks): past a limit a member is not read and a
# Problem says which limit; the other members still scan.
ARCHIVE_DEPTH_MAX = 5  # archives inside archives (a.zip!b.tar!c.zip ...), the outermost is 1
ARCHIVE_MEMBERS_MAX = 100_000  # members read from one archive; the rest are reported, not read
MEMBER_BYTES_MAX = 64 << 30  # one member, expanded
EXPANDED_BYTES_MAX = 256 << 30  # all members of one archive given by the user, expanded
EXPANSION_RATIO_MAX = 200  # expanded bytes per compressed byte, past RATIO_FLOOR
RATIO_FLOOR = 16 << 20  # expansions up to this size are not held to the ratio
