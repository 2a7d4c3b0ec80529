"""Reading a village's 花名册 (XLSX or CSV), previewing it line by line, importing it, exporting it.

Real rosters are messy: title rows above the header, merged cells, blank lines, full-width
digits, the same head listed twice, one sheet per group, a signature block below. The
preview names every problem with the line of the original file; the import writes
everything in one transaction or nothing, and importing the same file again changes nothing.

The rooms: `read` (files into tables of cells), `cells` (headers, cell text, footer lines),
`rows` (lines into checked rows), `households` (rows into planned households), `compare`
(planned against the roster), `preview` (the whole plan), `apply` (the import), `export`
(the XLSX export) and `uploads` (files kept between preview and import).
"""

from credits.roster_import.apply import import_roster
from credits.roster_import.cells import (
    BIRTH,
    EXPORT_COLUMNS,
    GENDER,
    GROUP,
    HEAD_NAME,
    HEADER_SCAN_ROWS,
    HEADERS,
    HOUSE,
    NAME,
    NEED_WORDS,
    NEEDS,
    PHONE,
    RELATION,
    cell_text,
    header_field,
    is_footer,
    needs_words,
    parse_needs,
)
from credits.roster_import.compare import home_value
from credits.roster_import.export import EXPORT_HEADERS, export_filename, export_roster, export_rows
from credits.roster_import.plan import (
    ERROR,
    WARNING,
    PlannedHousehold,
    PlannedMember,
    Preview,
    Problem,
    RosterHasErrors,
    Row,
)
from credits.roster_import.preview import preview
from credits.roster_import.read import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    RosterSource,
    Table,
    read_bytes,
    read_tables,
)
from credits.roster_import.uploads import (
    StoredUpload,
    import_upload,
    preview_stored,
    preview_upload,
    stored_upload,
)

__all__ = [
    "BIRTH",
    "ERROR",
    "EXPORT_COLUMNS",
    "EXPORT_HEADERS",
    "GENDER",
    "GROUP",
    "HEADERS",
    "HEADER_SCAN_ROWS",
    "HEAD_NAME",
    "HOUSE",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "NAME",
    "NEEDS",
    "NEED_WORDS",
    "PHONE",
    "RELATION",
    "WARNING",
    "PlannedHousehold",
    "PlannedMember",
    "Preview",
    "Problem",
    "RosterHasErrors",
    "RosterSource",
    "Row",
    "StoredUpload",
    "Table",
    "cell_text",
    "export_filename",
    "export_roster",
    "export_rows",
    "header_field",
    "home_value",
    "import_roster",
    "import_upload",
    "is_footer",
    "needs_words",
    "parse_needs",
    "preview",
    "preview_stored",
    "preview_upload",
    "read_bytes",
    "read_tables",
    "stored_upload",
]
