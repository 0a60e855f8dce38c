-- The search index is kept in few pieces. Each transaction that changes a case's text writes a
-- small segment of the FTS5 index, and FTS5 merges them four at a time; at a million cases, forty
-- such writes left ten small segments beside the large one, and every search reads them all
-- (asking whether one case holds a word: 6 µs with one segment, 35 µs with those eleven). The
-- deadline sweep asks FTS5 to merge (the 'merge' command) every minute; with 'usermerge' at 2 a
-- level of the index with two segments is merged, not four, so the small ones become one
-- (about 30 ms at a million cases) and the large one is left as it is.
INSERT INTO case_search (case_search, rank) VALUES ('usermerge', 2);
