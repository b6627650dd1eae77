"""The normalization table: written text, and words its spoken form must contain (any normalizer's, so that
bench/normalizers.py can score every candidate on it). Shared by tests/test_words.py and the benchmark.

Each case: (language, category, written, words that must appear in the spoken form, case-insensitive). Every spoken
form must also be free of digits and of the case's symbols ($ % / : @ ...).
"""

from __future__ import annotations

CASES: list[tuple[str, str, str, tuple[str, ...]]] = [
    # English: cardinals, ordinals, decimals, fractions
    ("en", "cardinal", "I have 2 cats.", ("two",)),
    ("en", "cardinal", "There were 21 people.", ("twenty", "one")),
    ("en", "cardinal", "It costs 1,000,000 to build.", ("million",)),
    ("en", "cardinal", "We counted 347 birds.", ("three hundred", "forty", "seven")),
    ("en", "cardinal", "The temperature fell to -7 overnight.", ("seven",)),
    ("en", "ordinal", "He finished 2nd in the race.", ("second",)),
    ("en", "ordinal", "She was 3rd, they were 101st.", ("third", "hundred", "first")),
    ("en", "ordinal", "It is the 21st century.", ("twenty", "first")),
    ("en", "decimal", "Pi is about 3.14.", ("three", "point", "one", "four")),
    ("en", "decimal", "The file is 2.5 GB.", ("two", "point", "five", "gigabyte")),
    ("en", "fraction", "Add 1/2 of the sugar.", ("half",)),
    ("en", "fraction", "Use 1/4 cup of milk.", ("quarter",)),
    ("en", "fraction", "Only 3/4 of them came.", ("three",)),
    # money and percentages
    ("en", "currency", "I paid $3.50 for it.", ("three", "dollar")),
    ("en", "currency", "The ticket was $20.", ("twenty", "dollar")),
    ("en", "currency", "It costs €5 in Paris.", ("five", "euro")),
    ("en", "currency", "A pint is £3.20 here.", ("three", "pound")),
    ("en", "percent", "Prices rose 25% this year.", ("twenty", "five", "percent")),
    ("en", "percent", "The battery is at 100%.", ("hundred", "percent")),
    # dates, times, years
    ("en", "date", "On 12/01/2026 we met.", ("twenty",)),
    ("en", "date", "It happened on 2026-03-05.", ("march", "fifth")),
    ("en", "date", "Born on March 5, 2026.", ("march", "fifth")),
    ("en", "date", "See you on Jan 1st.", ("january", "first")),
    ("en", "time", "Meet me at 5:30 pm.", ("five", "thirty")),
    ("en", "time", "The train leaves at 10:45am.", ("ten", "forty", "five")),
    ("en", "time", "The alarm went off at 10:30.", ("ten", "thirty")),
    ("en", "year", "She was born in 1999.", ("nineteen", "ninety", "nine")),
    ("en", "year", "The war ended in 1945.", ("nineteen", "forty", "five")),
    ("en", "year", "Music of the 1990s was loud.", ("nineteen", "nineties")),
    # phone numbers, units, abbreviations, web addresses
    ("en", "phone", "Call 555-123-4567 today.", ("five", "four", "seven")),
    ("en", "phone", "Dial +1 (555) 123-4567 now.", ("one", "five")),
    ("en", "unit", "The road is 3.5 km long.", ("kilometer",)),
    ("en", "unit", "It weighs 10kg.", ("ten", "kilogram")),
    ("en", "unit", "Drive at 50 mph.", ("fifty", "miles per hour")),
    ("en", "unit", "The limit is 100 km/h.", ("hundred", "kilometers per hour")),
    ("en", "unit", "He is 6 ft tall.", ("six", "feet")),
    ("en", "unit", "It was 90°F outside.", ("ninety", "degrees")),
    ("en", "abbreviation", "Dr. Smith is here.", ("doctor",)),
    ("en", "abbreviation", "Mr. and Mrs. Jones came.", ("mister",)),
    ("en", "number sign", "We are #1 again.", ("number", "one")),
    ("en", "url", "Visit https://example.com/docs today.", ("example", "dot", "com")),
    ("en", "email", "Write to john.doe@example.com please.", ("john", "at", "example", "dot", "com")),
    ("en", "mixed", "On 12/01/2026 I paid $3.50 for 2 coffees at 5:30 pm, 25% off.", ("dollar", "percent", "two")),
    ("en", "math", "We know 3 x 4 = 12.", ("three", "four", "twelve")),
    # Chinese
    ("zh", "cardinal", "我有3个苹果。", ("三",)),
    ("zh", "cardinal", "一共有1,234,567人。", ("一百二十三万",)),
    ("zh", "cardinal", "我住在302室。", ("三百零二",)),
    ("zh", "ordinal", "他得了第1名。", ("第一",)),
    ("zh", "ordinal", "请看第1章第2节。", ("第一章", "第二节")),
    ("zh", "decimal", "他身高1.8米。", ("一点八",)),
    ("zh", "fraction", "有1/3的人同意。", ("三分之一",)),
    ("zh", "currency", "这本书售价¥59.9。", ("五十九点九",)),
    ("zh", "currency", "我花了3.5元。", ("三点五元",)),
    ("zh", "currency", "价格是$100。", ("一百", "美元")),
    ("zh", "percent", "GDP增长了2.3%。", ("百分之二点三",)),
    ("zh", "percent", "打了25%的折扣。", ("百分之二十五",)),
    ("zh", "date", "今天是2026年3月5日。", ("三月五日",)),
    ("zh", "year", "他生于1999年。", ("一九九九",)),
    ("zh", "time", "下午3:30开会。", ("三点三十分",)),
    ("zh", "score", "比分是3:2。", ("三比二",)),
    ("zh", "phone", "电话13812345678。", ("三八",)),
    ("zh", "unit", "体重75公斤。", ("七十五",)),
    ("zh", "unit", "今天气温-5~3℃。", ("负五", "摄氏度")),
    ("zh", "unit", "速度是120km/h。", ("一百二十",)),
    ("zh", "mixed", "2026年3月5日，我花了3.5元买了2杯咖啡，打了25%的折扣。", ("两杯", "百分之二十五")),
]

SYMBOLS = "$€£¥%/:@#°℃=+"  # written symbols: none may be left in a spoken form
