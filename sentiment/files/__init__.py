"""Users' tables in, scored tables out: format detection, reading (whole or in
chunks), labelled data, uploads, and the scored-file format with its formula guard."""
