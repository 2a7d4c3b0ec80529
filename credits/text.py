"""Facts about Chinese names the domain needs."""

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 澹台 "
    "轩辕 百里 呼延 西门 南宫 独孤 万俟 闻人 钟离 申屠".split()
)
