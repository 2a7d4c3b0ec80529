"""The roster (户籍) pages: households and members, search, import and export of the 花名册.

One blueprint, `roster`; its views live in `households`, `members` and `imports`, its
forms in `forms`.
"""

from app.roster import households, imports, members
from app.roster.blueprint import bp, household_links

__all__ = ["bp", "household_links", "households", "imports", "members"]
