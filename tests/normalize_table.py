# ruff: noqa: E501  (the table: one case a line, however long its readings)
"""The normalization table: what a careful narrator says for each written form, by category, English and Chinese.

Written from the categories a reader of books, news and scripts meets (not from any normalizer's output), so that
tests/test_normalize_table.py holds the studio to it and bench/normalizers.py scores every candidate on it.

Each line of the tables below is `written | accepted reading | another accepted reading ## note`, under a
`=== language category` heading. A spoken form passes when its canonical form (`canonical`, the one comparison rule)
equals the canonical form of one accepted reading. Where a case is truly ambiguous the first reading is the
narrator's choice and the note says so.

The comparison rule, decided once: Unicode NFKC; lower case; hyphens and dashes are spaces; the punctuation
. , ! ? ; : ' " ( ) … and its Chinese forms are dropped (so "o'clock" = "oclock", "a.m." = "am"); the word "and" is
dropped (a narrator may say "one hundred and fifty" or "one hundred fifty"); "o" = "oh"; spaces collapse. For
Chinese also: spaces are dropped, 幺 = 一 (phone digits) and 至 = 到 (ranges). Every other symbol ($ % ° / ...) and
every digit stays, so a form left unread never passes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple


class Case(NamedTuple):
    category: str
    language: str  # "en" | "zh"
    written: str
    readings: tuple[str, ...]  # the accepted spoken forms, the narrator's choice first
    note: str


_PUNCTUATION = re.compile(r"[.,!?;:'\"()…，。！？；：、“”‘’（）《》「」]")
_DASHES = re.compile(r"[-‐‑‒–—]")


def canonical(text: str, language: str = "en") -> str:
    """The form two readings are compared in (see the module docstring):
    canonical("One hundred and fifty-five o'clock.") -> "one hundred fifty five oclock"."""
    text = _DASHES.sub(" ", unicodedata.normalize("NFKC", text).lower())
    text = _PUNCTUATION.sub("", text)
    words = ["oh" if w == "o" else w for w in text.split() if w != "and"]
    if language == "zh":
        return "".join(words).replace("幺", "一").replace("至", "到")
    return " ".join(words)


def accepts(case: Case, spoken: str) -> bool:
    """Whether a spoken form is one of the case's accepted readings (compared in canonical form)."""
    said = canonical(spoken, case.language)
    return any(said == canonical(r, case.language) for r in case.readings)


def _parse(table: str) -> list[Case]:
    cases: list[Case] = []
    language = category = ""
    for line in table.strip().splitlines():
        if line.startswith("=== "):
            language, category = line[4:].split()
            continue
        text, _, note = line.partition(" ## ")
        written, *readings = (part.strip() for part in text.split(" | "))
        cases.append(Case(category, language, written, tuple(readings), note.strip()))
    return cases


_ENGLISH = """
=== en cardinal
1,250 people | one thousand two hundred fifty people
It has 1,001 rooms. | it has one thousand one rooms
We sold 12,345 copies. | we sold twelve thousand three hundred forty five copies
The city has 2,500,000 people. | the city has two million five hundred thousand people
She wrote 1000 letters. | she wrote one thousand letters | she wrote a thousand letters
There are 7 days. | there are seven days
He is 42 today. | he is forty two today
We counted 100 birds. | we counted one hundred birds | we counted a hundred birds
Only 13 came. | only thirteen came
A crowd of 15,000 fans. | a crowd of fifteen thousand fans
It cost them 999,999 in total. | it cost them nine hundred ninety nine thousand nine hundred ninety nine in total
The list has 0 items. | the list has zero items
About 1,000,000 views. | about one million views | about a million views
The army had 250,000 men. | the army had two hundred fifty thousand men
He owns 3,400 acres. | he owns three thousand four hundred acres
The 3 of us. | the three of us
We had 911 visitors. | we had nine hundred eleven visitors ## a count, not the emergency number
It has 1,000,000,000 stars. | it has one billion stars | it has a billion stars
=== en year
She was born in 1984. | she was born in nineteen eighty four
In 2024 we moved. | in twenty twenty four we moved
The war ended in 1945. | the war ended in nineteen forty five
It was built in 1905. | it was built in nineteen oh five ## a narrator says "oh", not "zero"
By 2000 it was gone. | by two thousand it was gone
In 2005 they met. | in two thousand five they met | in twenty oh five they met
The year 1066 changed it. | the year ten sixty six changed it
He died in 1900. | he died in nineteen hundred
Since 2010 it has grown. | since twenty ten it has grown | since two thousand ten it has grown
In 1776 they signed. | in seventeen seventy six they signed
In the summer of 1969 they landed. | in the summer of nineteen sixty nine they landed
From 1939 to 1945 it raged. | from nineteen thirty nine to nineteen forty five it raged
1234 apples | one thousand two hundred thirty four apples | twelve hundred thirty four apples ## a count: plain number
1001 nights | one thousand one nights | a thousand one nights ## a count
Page 1000. | page one thousand
We have 2024 tickets. | we have two thousand twenty four tickets ## a count, not a year
The car weighs 1500 kg. | the car weighs one thousand five hundred kilograms | the car weighs fifteen hundred kilograms
It has 1999 pages. | it has one thousand nine hundred ninety nine pages ## a count, not a year
About 1800 people came. | about one thousand eight hundred people came | about eighteen hundred people came
The 2024 election was close. | the twenty twenty four election was close
=== en phone
Call 555-1234. | call five five five one two three four
Call 555-123-4567 today. | call five five five one two three four five six seven today
Dial (555) 123-4567. | dial five five five one two three four five six seven
My number is 020 7946 0018. | my number is zero two zero seven nine four six zero zero one eight | my number is oh two oh seven nine four six oh oh one eight
Phone: +1 555 123 4567 | phone plus one five five five one two three four five six seven
Call +44 20 7946 0958. | call plus four four two zero seven nine four six zero nine five eight
Text 555.123.4567 now. | text five five five one two three four five six seven now
Ring 1-800-555-0199. | ring one eight hundred five five five zero one nine nine | ring one eight zero zero five five five zero one nine nine
Call 555-0100. | call five five five zero one zero zero
Phone 212-555-0147. | phone two one two five five five zero one four seven
Fax: 555-867-5309 | fax five five five eight six seven five three zero nine
Her cell is 07700 900123. | her cell is zero seven seven zero zero nine zero zero one two three
Call +1 (212) 555-0147. | call plus one two one two five five five zero one four seven
Number: 867-5309 | number eight six seven five three zero nine
Call 0800 123 456. | call zero eight zero zero one two three four five six
Reach us at 555-2368. | reach us at five five five two three six eight
=== en short_code
Call 911 now. | call nine one one now
In the UK dial 999. | in the uk dial nine nine nine
In Europe dial 112. | in europe dial one one two
Call 999 for an ambulance. | call nine nine nine for an ambulance
Dial 911. | dial nine one one
Text 311 for help. | text three one one for help
Call 000 in Australia. | call zero zero zero in australia | call triple zero in australia
Call 111 for advice. | call one one one for advice
In China call 110. | in china call one one zero
Dial 411 for information. | dial four one one for information
Call 988 for support. | call nine eight eight for support
He called 911 twice. | he called nine one one twice
The 911 call came in. | the nine one one call came in
Dial 101 for the police. | dial one zero one for the police | dial one oh one for the police
It was a 999 call. | it was a nine nine nine call
Text 88022 to vote. | text eight eight zero two two to vote
Call 1000 people today. | call one thousand people today | call a thousand people today ## a count after "call", not a code
Call 911 or 999. | call nine one one or nine nine nine
=== en version
Version 3.11.7 is out. | version three point eleven point seven is out | version three dot eleven dot seven is out
Install version 2.4.1 today. | install version two point four point one today | install version two dot four dot one today
Update to v2.0.1. | update to version two point zero point one | update to v two point zero point one
Python 3.12 is out. | python three point twelve is out | python three point one two is out
Node 18.17.0 works. | node eighteen point seventeen point zero works
Release 1.0 is stable. | release one point zero is stable | release one point oh is stable
We run 10.4.12 now. | we run ten point four point twelve now
Update 14.2.1 is out. | update fourteen point two point one is out
The IP is 192.168.1.1. | the ip is one nine two dot one six eight dot one dot one | the ip is one ninety two dot one sixty eight dot one dot one
Ping 10.0.0.1 now. | ping ten dot zero dot zero dot one now | ping one zero dot zero dot zero dot one now
Open 127.0.0.1 in a browser. | open one two seven dot zero dot zero dot one in a browser | open one twenty seven dot zero dot zero dot one in a browser
The DNS is 8.8.8.8. | the dns is eight dot eight dot eight dot eight
Use 255.255.255.0 as the mask. | use two five five dot two five five dot two five five dot zero as the mask | use two fifty five dot two fifty five dot two fifty five dot zero as the mask
Version 1.2.3-beta works. | version one point two point three beta works
See section 4.2.1. | see section four point two point one
Use gcc 13.2.0 here. | use gcc thirteen point two point zero here | use g c c thirteen point two point zero here
=== en money
I paid $3.50. | i paid three dollars fifty cents | i paid three dollars fifty
It costs $0.99. | it costs ninety nine cents
The fee is $1,000. | the fee is one thousand dollars | the fee is a thousand dollars
A ticket is $20. | a ticket is twenty dollars
He owes $1.01. | he owes one dollar one cent
It is $1. | it is one dollar
That is £1,250.75. | that is one thousand two hundred fifty pounds seventy five pence | that is one thousand two hundred fifty pounds seventy five
It costs €1,000. | it costs one thousand euros | it costs a thousand euros
Only €2.50 each. | only two euros fifty cents each | only two euros fifty each
It was £5. | it was five pounds
The coffee is £0.50. | the coffee is fifty pence | the coffee is fifty p
A coin is ¥100. | a coin is one hundred yen | a coin is a hundred yen
Pay $5 million. | pay five million dollars
They raised $2.5 billion. | they raised two point five billion dollars
It was $12.05. | it was twelve dollars five cents
It is 20 USD. | it is twenty dollars | it is twenty us dollars
It costs 5 EUR. | it costs five euros
It was $1.00. | it was one dollar
It cost 50p. | it cost fifty pence | it cost fifty p
=== en time
Meet me at 5:30 pm. | meet me at five thirty pm
The meeting is at 14:00. | the meeting is at fourteen hundred | the meeting is at two pm | the meeting is at fourteen hundred hours ## 24-hour clock: read as written, "fourteen hundred"
It starts at 9:05 am. | it starts at nine oh five am
The train leaves at 10:45am. | the train leaves at ten forty five am
Lunch is at 12:00. | lunch is at twelve oclock | lunch is at twelve | lunch is at noon
At 7:00 pm we eat. | at seven pm we eat | at seven oclock pm we eat
Wake at 6 AM. | wake at six am
The shop opens at 8 a.m. | the shop opens at eight am
He left at 23:15. | he left at twenty three fifteen | he left at eleven fifteen pm
At 00:30 it rang. | at twelve thirty am it rang | at zero thirty it rang | at oh thirty it rang ## midnight hour: a narrator says "twelve thirty a m"
The show is at 9:45 p.m. | the show is at nine forty five pm
It opens at 09:00. | it opens at nine oclock | it opens at nine am | it opens at oh nine hundred
It is 3:15. | it is three fifteen
The call is at 18:30. | the call is at eighteen thirty | the call is at six thirty pm
It ended at 4:00 PM. | it ended at four pm | it ended at four oclock pm
At 1:05 PM sharp. | at one oh five pm sharp
=== en date
On 2024-03-05 we met. | on march fifth twenty twenty four we met | on the fifth of march twenty twenty four we met
Born on March 5, 2024. | born on march fifth twenty twenty four | born on the fifth of march twenty twenty four
It was 12/25/2023. | it was december twenty fifth twenty twenty three | it was the twenty fifth of december twenty twenty three
Due 05/03/2024. | due may third twenty twenty four | due the third of may twenty twenty four ## ambiguous: read month first (US), the narrator's choice
On 25/12/2023 it snowed. | on the twenty fifth of december twenty twenty three it snowed | on december twenty fifth twenty twenty three it snowed ## day above 12: day first
See you on Jan 1st. | see you on january first | see you on the first of january
On 5 March 2024 we left. | on the fifth of march twenty twenty four we left | on march fifth twenty twenty four we left
July 4, 1776 was hot. | july fourth seventeen seventy six was hot | the fourth of july seventeen seventy six was hot
On 1 January 2000 it began. | on the first of january two thousand it began | on january first two thousand it began
Dec. 7, 1941 will live on. | december seventh nineteen forty one will live on | the seventh of december nineteen forty one will live on
It ends 2023-11-30. | it ends november thirtieth twenty twenty three | it ends the thirtieth of november twenty twenty three
On Feb 29 2024 we wed. | on february twenty ninth twenty twenty four we wed | on the twenty ninth of february twenty twenty four we wed
Pi day is 3/14/2015. | pi day is march fourteenth twenty fifteen | pi day is the fourteenth of march twenty fifteen
On the 3rd of May we sail. | on the third of may we sail
The party was 1999-12-31. | the party was december thirty first nineteen ninety nine | the party was the thirty first of december nineteen ninety nine
It opened in June 2020. | it opened in june twenty twenty
It expired 31.12.1999. | it expired the thirty first of december nineteen ninety nine | it expired december thirty first nineteen ninety nine
Born 12 May 1990. | born the twelfth of may nineteen ninety | born may twelfth nineteen ninety
The 9/11 attacks. | the nine eleven attacks ## the event's name, not a fraction
=== en ordinal
He came 1st. | he came first
She was 2nd. | she was second
The 3rd time. | the third time
On the 4th floor. | on the fourth floor
The 11th hour. | the eleventh hour
The 12th man. | the twelfth man
It is the 21st century. | it is the twenty first century
Her 22nd birthday. | her twenty second birthday
The 23rd Psalm. | the twenty third psalm
The 100th visitor. | the one hundredth visitor | the hundredth visitor
The 101st time. | the one hundred first time | the hundred first time
His 1000th game. | his one thousandth game | his thousandth game
The 13th floor. | the thirteenth floor
The 40th anniversary. | the fortieth anniversary
The 111th day. | the one hundred eleventh day | the hundred eleventh day
The 2nd of June. | the second of june
The 5th element. | the fifth element
=== en fraction
Add 1/2 cup. | add one half cup | add half a cup | add a half cup
Use 1/4 of it. | use one quarter of it | use a quarter of it | use one fourth of it
Only 3/4 came. | only three quarters came | only three fourths came
About 2/3 of them. | about two thirds of them
Take 1/3. | take one third | take a third
It is 5/8 inch. | it is five eighths inch | it is five eighths of an inch
Add 1 1/2 cups. | add one a half cups | add one one half cups ## "one and a half" ("and" is optional in the comparison)
Cut 7/10 of it. | cut seven tenths of it
Add ½ cup. | add one half cup | add half a cup | add a half cup
Use ¾ of it. | use three quarters of it | use three fourths of it
Mix 2 3/4 cups. | mix two three quarters cups | mix two three fourths cups
Fill 9/10 of the tank. | fill nine tenths of the tank
About 1/5 of us. | about one fifth of us | about a fifth of us
Only 1/10 passed. | only one tenth passed | only a tenth passed
Share 3/8 each. | share three eighths each
It took 1/6. | it took one sixth | it took a sixth
Add 11/12. | add eleven twelfths
=== en percent
Prices rose 25%. | prices rose twenty five percent
The battery is at 100%. | the battery is at one hundred percent | the battery is at a hundred percent
It fell 2.5%. | it fell two point five percent
Only 0.1% remain. | only zero point one percent remain | only point one percent remain
A 50% discount. | a fifty percent discount
It grew 12.75%. | it grew twelve point seven five percent
Up 1,000%. | up one thousand percent
About 99.9% pure. | about ninety nine point nine percent pure
A -3% change. | a minus three percent change | a negative three percent change
It is 7 percent. | it is seven percent
Take 15 per cent off. | take fifteen per cent off | take fifteen percent off
It hit 33%. | it hit thirty three percent
Only 1% voted. | only one percent voted
Half, or 50%, left. | half or fifty percent left
Interest is 4.25%. | interest is four point two five percent
=== en decimal
Pi is 3.14. | pi is three point one four
It is 2.5 times larger. | it is two point five times larger
The score was 9.75. | the score was nine point seven five
Only 0.5 left. | only zero point five left | only point five left
It read 0.001. | it read zero point zero zero one
A ratio of 1.618. | a ratio of one point six one eight
Its value is 12.5. | its value is twelve point five
About 3.0 in all. | about three point zero in all
Grew by 1.05. | grew by one point zero five
It is .5 now. | it is point five now
The rate is 6.02. | the rate is six point zero two
Average 4.7 stars. | average four point seven stars
A 1,234.56 total. | a one thousand two hundred thirty four point five six total
Multiply by 10.1. | multiply by ten point one
About 100.25 each. | about one hundred point two five each
=== en negative
It fell to -7 overnight. | it fell to minus seven overnight | it fell to negative seven overnight
It was -5°C. | it was minus five degrees celsius | it was negative five degrees celsius
Water boils at 100°C. | water boils at one hundred degrees celsius
It was 90°F outside. | it was ninety degrees fahrenheit outside
The low is -10°F. | the low is minus ten degrees fahrenheit | the low is negative ten degrees fahrenheit
Set it to 180 °C. | set it to one hundred eighty degrees celsius
A balance of -250. | a balance of minus two hundred fifty | a balance of negative two hundred fifty
The change was -3.5. | the change was minus three point five | the change was negative three point five
It is 21° today. | it is twenty one degrees today
Body heat is 37°C. | body heat is thirty seven degrees celsius
Space is -270 °C. | space is minus two hundred seventy degrees celsius | space is negative two hundred seventy degrees celsius
A 1°C rise. | a one degree celsius rise
At -40° both agree. | at minus forty degrees both agree | at negative forty degrees both agree
The loss was −12. | the loss was minus twelve | the loss was negative twelve
Lows of -2, highs of 5. | lows of minus two highs of five | lows of negative two highs of five
It is 72 °F. | it is seventy two degrees fahrenheit
It froze at 0°C. | it froze at zero degrees celsius
=== en unit
The road is 3.5 km long. | the road is three point five kilometers long
It weighs 10kg. | it weighs ten kilograms
Drive at 50 mph. | drive at fifty miles per hour
The limit is 100 km/h. | the limit is one hundred kilometers per hour
He is 6 ft tall. | he is six feet tall
Add 250 ml of water. | add two hundred fifty milliliters of water
The file is 2 GB. | the file is two gigabytes
It is 5 cm wide. | it is five centimeters wide
Use 1 kg of flour. | use one kilogram of flour
He ran 100 m. | he ran one hundred meters | he ran a hundred meters
It uses 60 W. | it uses sixty watts
Run 5 km daily. | run five kilometers daily
It holds 2 L. | it holds two liters
The bag is 500 g. | the bag is five hundred grams
We walked 3 mi. | we walked three miles
The bag is 5 lb. | the bag is five pounds
It runs at 3.2 GHz. | it runs at three point two gigahertz
=== en range
5-10 people | five to ten people
Ages 18-25. | ages eighteen to twenty five
Pages 10–20. | pages ten to twenty
It takes 2-3 days. | it takes two to three days
Work 9-5 daily. | work nine to five daily
Rates of 3-4%. | rates of three to four percent
In 1939-1945 it raged. | in nineteen thirty nine to nineteen forty five it raged
Temps of 20-25°C. | temps of twenty to twenty five degrees celsius
Sizes 8-12 fit. | sizes eight to twelve fit
It is $5-10 each. | it is five to ten dollars each
The 2020-21 season. | the twenty twenty to twenty one season | the twenty twenty twenty one season
Chapters 3-5. | chapters three to five
Wait 5 - 10 minutes. | wait five to ten minutes
Write 1,000-2,000 words. | write one thousand to two thousand words
Read lines 1-3. | read lines one to three
A 3-5 year plan. | a three to five year plan
They earned $5,000-$10,000. | they earned five thousand to ten thousand dollars
=== en decade
Music of the 1990s. | music of the nineteen nineties
In the 1960s. | in the nineteen sixties
The 1800s were hard. | the eighteen hundreds were hard
During the 2000s. | during the two thousands
In the 2010s. | in the twenty tens
The 1920's jazz. | the nineteen twenties jazz
In the '80s. | in the eighties
In the 80s. | in the eighties
The 70s rock. | the seventies rock
The 1950s and 60s. | the nineteen fifties sixties
In the 1700s. | in the seventeen hundreds
Back in the 90s. | back in the nineties
The early 1900s. | the early nineteen hundreds
The 1910s. | the nineteen tens
The 2020s so far. | the twenty twenties so far
In her 20s. | in her twenties
People in their 30s. | people in their thirties
=== en abbreviation
Dr. Smith is here. | doctor smith is here
Mr. and Mrs. Jones came. | mister missus jones came | mister misses jones came
Prof. Brown spoke. | professor brown spoke
St. Louis is big. | saint louis is big
He lives on Main St. | he lives on main street
Martin Luther King Jr. spoke. | martin luther king junior spoke
Gen. Grant won. | general grant won
Capt. Hook sailed. | captain hook sailed
Mt. Everest is high. | mount everest is high
See p. 5. | see page five
Lt. Dan came. | lieutenant dan came
Sgt. Pepper played. | sergeant pepper played
Fig. 3 shows it. | figure three shows it
No. 5 won. | number five won
Smith vs. Jones. | smith versus jones
Apples, pears, etc. | apples pears et cetera | apples pears etcetera
Sen. Warren spoke. | senator warren spoke
Approx. 5 kg. | approximately five kilograms
=== en roman
Chapter IV begins. | chapter four begins
Henry VIII had wives. | henry the eighth had wives
World War II ended. | world war two ended
Louis XIV ruled. | louis the fourteenth ruled
Part III is long. | part three is long
Elizabeth II died. | elizabeth the second died
Super Bowl LVII was close. | super bowl fifty seven was close
Volume XII is out. | volume twelve is out
I think so. | i think so ## the pronoun stays a word
Pope John Paul II spoke. | pope john paul the second spoke
Act V, Scene II. | act five scene two
King George III ruled. | king george the third ruled
Section IX applies. | section nine applies
I am here, and I agree. | i am here i agree ## the pronoun stays a word
World War I began. | world war one began
Richard III was king. | richard the third was king
Chapter XX ends it. | chapter twenty ends it
"""

_CHINESE = """
=== zh cardinal
我有3个苹果。 | 我有三个苹果
一共有1,234,567人。 | 一共有一百二十三万四千五百六十七人
他有15本书。 | 他有十五本书
这里有100人。 | 这里有一百人
人口有2,500万。 | 人口有两千五百万 | 人口有二千五百万
全国有14亿人。 | 全国有十四亿人
共有10000名学生。 | 共有一万名学生
有1001个故事。 | 有一千零一个故事
他跑了20圈。 | 他跑了二十圈
来了2个人。 | 来了两个人
一共12,345个。 | 一共一万两千三百四十五个 | 一共一万二千三百四十五个
城市有35000人。 | 城市有三万五千人
我们卖了110台。 | 我们卖了一百一十台
有0个错误。 | 有零个错误
他今年42岁。 | 他今年四十二岁
数据有1,000,000条。 | 数据有一百万条
这里有2000棵树。 | 这里有两千棵树 | 这里有二千棵树
=== zh year
他生于1999年。 | 他生于一九九九年
2024年是龙年。 | 二零二四年是龙年
1984年，他来了。 | 一九八四年他来了
在2000年以前。 | 在二零零零年以前
2008年奥运会。 | 二零零八年奥运会
从1978年开始。 | 从一九七八年开始
到2050年。 | 到二零五零年
2024年的夏天。 | 二零二四年的夏天
他在1911年出生。 | 他在一九一一年出生
1000年前。 | 一千年前 ## a length of time, not a year
500年后。 | 五百年后 ## a length of time, not a year
2023年度报告。 | 二零二三年度报告
我们有2024个人。 | 我们有两千零二十四个人 | 我们有二千零二十四个人 ## a count
于1966年。 | 于一九六六年
公元1368年。 | 公元一三六八年
=== zh phone
电话13812345678。 | 电话一三八一二三四五六七八
请拨打010-12345678。 | 请拨打零一零一二三四五六七八
手机号是139 1234 5678。 | 手机号是一三九一二三四五六七八
客服电话400-800-1234。 | 客服电话四零零八零零一二三四
电话：021-6666-8888 | 电话零二一六六六六八八八八
打+86 138 0000 1111。 | 打加八六一三八零零零零一一一一
拨打0755-88886666。 | 拨打零七五五八八八八六六六六
座机号码是62345678。 | 座机号码是六二三四五六七八
联系电话：18600001111 | 联系电话一八六零零零零一一一一
号码是15912345678。 | 号码是一五九一二三四五六七八
请拨95588。 | 请拨九五五八八
热线12345。 | 热线一二三四五
电话是13800138000。 | 电话是一三八零零一三八零零零
联系13512345678或13612345678。 | 联系一三五一二三四五六七八或一三六一二三四五六七八
传真010-87654321。 | 传真零一零八七六五四三二一
=== zh short_code
请拨打110。 | 请拨打一一零
火警电话是119。 | 火警电话是一一九
急救电话120。 | 急救电话一二零
拨打122报警。 | 拨打一二二报警
打12315投诉。 | 打一二三一五投诉
拨打114查号。 | 拨打一一四查号
拨打10086。 | 拨打一零零八六
打10010问问。 | 打一零零一零问问
拨打12345热线。 | 拨打一二三四五热线
打999求助。 | 打九九九求助
请拨911。 | 请拨九一一
拨112。 | 拨一一二
报警请打110。 | 报警请打一一零
拨打12306订票。 | 拨打一二三零六订票
快拨120！ | 快拨一二零
有110个人。 | 有一百一十个人 ## a count, not a code
=== zh version
版本3.11.7 | 版本三点一一点七 | 版本三点十一点七
请升级到v2.0.1。 | 请升级到v二点零点一
Python 3.12发布了。 | python三点一二发布了 | python三点十二发布了
IP是192.168.1.1。 | ip是一九二点一六八点一点一 | ip是一百九十二点一百六十八点一点一
访问10.0.0.1。 | 访问十点零点零点一 | 访问一零点零点零点一
版本1.0稳定。 | 版本一点零稳定
固件4.2.1。 | 固件四点二点一
安卓14.0。 | 安卓十四点零
iOS 17.4.1发布。 | ios十七点四点一发布
服务器8.8.8.8。 | 服务器八点八点八点八
见第4.2.1节。 | 见第四点二点一节
地址是127.0.0.1。 | 地址是一二七点零点零点一 | 地址是一百二十七点零点零点一
版本号1.2.3。 | 版本号一点二点三
升级到5.10.2。 | 升级到五点一零点二 | 升级到五点十点二
内核6.1.0。 | 内核六点一点零
=== zh money
这本书售价¥59.9。 | 这本书售价五十九点九元 | 这本书售价五十九元九角
我花了3.5元。 | 我花了三点五元 | 我花了三元五角
价格是$100。 | 价格是一百美元
一共￥1,250.75。 | 一共一千二百五十点七五元 | 一共一千二百五十元七角五分 | 一共一千两百五十元七角五分
我有50元。 | 我有五十元
票价¥0.5。 | 票价零点五元 | 票价五角
花了12.35元。 | 花了十二点三五元 | 花了十二元三角五分
工资8000元。 | 工资八千元
捐了¥10000。 | 捐了一万元
一杯咖啡€5。 | 一杯咖啡五欧元
价值£20。 | 价值二十英镑
花了2元。 | 花了两元 | 花了二元
一共3块5。 | 一共三块五
收入1.2亿元。 | 收入一点二亿元
花了300万美元。 | 花了三百万美元
售价99元。 | 售价九十九元
价格$3.50。 | 价格三点五美元 | 价格三点五零美元 | 价格三美元五十美分
=== zh time
下午3:30开会。 | 下午三点三十分开会 | 下午三点半开会 | 下午三点三十开会
现在是14:00。 | 现在是十四点 | 现在是十四点整 | 现在是十四点零零分
早上8:05出发。 | 早上八点零五分出发 | 早上八点零五出发
晚上10:45睡觉。 | 晚上十点四十五分睡觉 | 晚上十点四十五睡觉
12:00吃饭。 | 十二点吃饭 | 十二点整吃饭
会议在9:30。 | 会议在九点三十分 | 会议在九点半 | 会议在九点三十
23:59截止。 | 二十三点五十九分截止 | 二十三点五十九截止
0:30还没睡。 | 零点三十分还没睡 | 零点半还没睡 | 零点三十还没睡
7:15起床。 | 七点十五分起床 | 七点十五起床 | 七点一刻起床
下午2点见。 | 下午两点见
6:00起床。 | 六点起床 | 六点整起床
18:30下班。 | 十八点三十分下班 | 十八点半下班 | 十八点三十下班
上午11:20到。 | 上午十一点二十分到 | 上午十一点二十到
凌晨1:10醒了。 | 凌晨一点十分醒了 | 凌晨一点一十分醒了 | 凌晨一点十醒了
晚上9点半。 | 晚上九点半
=== zh date
今天是2024年3月5日。 | 今天是二零二四年三月五日
2024-03-05开会。 | 二零二四年三月五日开会
2024/3/5开会。 | 二零二四年三月五日开会
3月15日到。 | 三月十五日到
1949年10月1日。 | 一九四九年十月一日
2023年12月31日。 | 二零二三年十二月三十一日
5月1日放假。 | 五月一日放假
2000年1月1日。 | 二零零零年一月一日
12月25日是圣诞节。 | 十二月二十五日是圣诞节
2024.03.05开会。 | 二零二四年三月五日开会
3月5号见。 | 三月五号见
2020年2月29日。 | 二零二零年二月二十九日
1999-12-31晚上。 | 一九九九年十二月三十一日晚上
10月1日国庆。 | 十月一日国庆
2024年6月。 | 二零二四年六月
=== zh ordinal
他得了第1名。 | 他得了第一名
请看第1章第2节。 | 请看第一章第二节
第3次来。 | 第三次来
第10届大会。 | 第十届大会
第21个。 | 第二十一个
第100天。 | 第一百天
第2名。 | 第二名 ## 第二, never 第两
第12页。 | 第十二页
第15条。 | 第十五条
第1000位。 | 第一千位
第99号。 | 第九十九号
第2季。 | 第二季
第5届。 | 第五届
第33届。 | 第三十三届
第101次。 | 第一百零一次
=== zh fraction
有1/3的人同意。 | 有三分之一的人同意
3/4的时间。 | 四分之三的时间
1/2杯水。 | 二分之一杯水 | 半杯水
约2/5。 | 约五分之二
占了1/10。 | 占了十分之一
5/8英寸。 | 八分之五英寸
只有1/100。 | 只有一百分之一 | 只有百分之一
约7/9。 | 约九分之七
超过2/3。 | 超过三分之二
1/4的人。 | 四分之一的人
9/10的时间。 | 十分之九的时间
约3/8。 | 约八分之三
约11/12。 | 约十二分之十一
约1/5。 | 约五分之一
仅1/20。 | 仅二十分之一
=== zh percent
GDP增长了2.3%。 | gdp增长了百分之二点三
打了25%的折扣。 | 打了百分之二十五的折扣
50%的人。 | 百分之五十的人
100%满意。 | 百分之一百满意 | 百分之百满意
增长0.5%。 | 增长百分之零点五
下降3%。 | 下降百分之三
纯度99.9%。 | 纯度百分之九十九点九
占10%。 | 占百分之十
利率4.25%。 | 利率百分之四点二五
增长了200%。 | 增长了百分之二百 | 增长了百分之两百
变化-2%。 | 变化负百分之二 | 变化百分之负二
1%的人。 | 百分之一的人
15%的税。 | 百分之十五的税
提高了12%。 | 提高了百分之十二
33.3%的票。 | 百分之三十三点三的票
=== zh decimal
圆周率是3.14。 | 圆周率是三点一四
得分9.75分。 | 得分九点七五分
0.5倍。 | 零点五倍
增长1.05倍。 | 增长一点零五倍
约12.5。 | 约十二点五
数值0.001。 | 数值零点零零一
平均4.7分。 | 平均四点七分
比率1.618。 | 比率一点六一八
结果是10.1。 | 结果是十点一
共100.25。 | 共一百点二五
约3.0。 | 约三点零
系数0.75。 | 系数零点七五
放大2.5倍。 | 放大二点五倍
增长了1.5倍。 | 增长了一点五倍
值为6.02。 | 值为六点零二
=== zh negative
今天气温-5℃。 | 今天气温零下五摄氏度 | 今天气温负五摄氏度 | 今天气温零下五度
水在100℃沸腾。 | 水在一百摄氏度沸腾 | 水在一百度沸腾
体温37.5℃。 | 体温三十七点五摄氏度 | 体温三十七点五度
余额-250元。 | 余额负二百五十元 | 余额负两百五十元
变化-3.5。 | 变化负三点五
零下10°C。 | 零下十摄氏度 | 零下十度
今天25°C。 | 今天二十五摄氏度 | 今天二十五度
低至-40℃。 | 低至零下四十摄氏度 | 低至负四十摄氏度
温度是0℃。 | 温度是零摄氏度 | 温度是零度
最低-12℃。 | 最低零下十二摄氏度 | 最低负十二摄氏度
亏损-1.2亿。 | 亏损负一点二亿
外面90°F。 | 外面九十华氏度 | 外面华氏九十度
结果是-7。 | 结果是负七
得分-3分。 | 得分负三分
室温20℃。 | 室温二十摄氏度 | 室温二十度
=== zh unit
体重75公斤。 | 体重七十五公斤
速度是120km/h。 | 速度是一百二十千米每小时 | 速度是每小时一百二十公里 | 速度是一百二十公里每小时
跑了5km。 | 跑了五千米 | 跑了五公里
重10kg。 | 重十千克 | 重十公斤
身高1.8米。 | 身高一点八米
长3.5m。 | 长三点五米
容量2L。 | 容量二升 | 容量两升
喝了500ml水。 | 喝了五百毫升水
面积100m²。 | 面积一百平方米
500g面粉。 | 五百克面粉
距离3公里。 | 距离三公里
功率60W。 | 功率六十瓦
宽5cm。 | 宽五厘米
高度8848米。 | 高度八千八百四十八米
2小时后。 | 两小时后
=== zh range
气温20~25度。 | 气温二十到二十五度
5-10个人。 | 五到十个人
第3-5章。 | 第三到五章 | 第三到第五章
1990-2000年。 | 一九九零到二零零零年
2-3天。 | 两到三天 | 二到三天 | 两三天
18-25岁。 | 十八到二十五岁
10~20分钟。 | 十到二十分钟
100-200元。 | 一百到二百元 | 一百到两百元
3~5年。 | 三到五年
第1-3名。 | 第一到三名 | 第一到第三名
30-40人。 | 三十到四十人
1-2周。 | 一到两周 | 一到二周
涨了5%-10%。 | 涨了百分之五到百分之十 | 涨了百分之五到十
营业8:00-17:00。 | 营业八点到十七点
2020-2023年。 | 二零二零到二零二三年
6~8小时。 | 六到八小时
=== zh decade
90年代。 | 九十年代
80年代的音乐。 | 八十年代的音乐
1990年代。 | 一九九零年代
20世纪。 | 二十世纪
21世纪。 | 二十一世纪
上世纪70年代。 | 上世纪七十年代
19世纪末。 | 十九世纪末
2000年代。 | 二零零零年代 | 两千年代
60年代。 | 六十年代
1980年代初。 | 一九八零年代初
20世纪90年代。 | 二十世纪九十年代
50年代。 | 五十年代
2010年代。 | 二零一零年代
上世纪80年代末。 | 上世纪八十年代末
公元前5世纪。 | 公元前五世纪
"""

CASES: list[Case] = _parse(_ENGLISH) + _parse(_CHINESE)
CATEGORIES: dict[str, list[str]] = {
    lang: list(dict.fromkeys(c.category for c in CASES if c.language == lang)) for lang in ("en", "zh")
}

# The few cases the studio knowingly reads otherwise than the table, with why: written -> reason.
KNOWN_MISREADINGS: dict[str, str] = {}
