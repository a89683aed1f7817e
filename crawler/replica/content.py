"""Original Vietnamese news text for the replica: pools of sentences, titles, names and captions.

Everything here is written for provnews; no text is taken from real pages. Templates use
``str.format`` placeholders filled from a per-province context (places, agencies, people).
Both tone-mark styles (hòa/hoà, ủy/uỷ, thủy/thuỷ) occur on purpose, as on the real sites.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

TOPICS = ("meeting", "infrastructure", "agriculture", "education", "culture")

SECTION_TOPICS: dict[str, tuple[str, ...]] = {
    "thoi-su": ("meeting", "infrastructure"),
    "kinh-te": ("agriculture", "infrastructure"),
    "xa-hoi": ("education", "meeting"),
    "van-hoa": ("culture", "education"),
}


@dataclass(frozen=True)
class Province:
    name: str
    places: tuple[str, ...]
    wards: tuple[str, ...]
    crops: tuple[str, ...]
    landmarks: tuple[str, ...]
    festival: str
    party_body: str  # "Tỉnh ủy" or "Thành uỷ" (tone style as the paper writes it)
    kind: str = "tỉnh"

    @property
    def full(self) -> str:
        return f"{self.kind} {self.name}"


PROVINCES: dict[str, Province] = {
    "Gia Lai": Province(
        name="Gia Lai",
        places=("xã Ia Grai", "xã Chư Păh", "xã Đak Đoa", "phường An Khê", "xã Kbang", "xã Phú Thiện"),
        wards=("phường Pleiku", "phường Diên Hồng", "phường Quy Nhơn", "phường Hội Phú"),
        crops=("cà phê", "hồ tiêu", "mắc ca", "sầu riêng", "chanh dây"),
        landmarks=("Biển Hồ", "cao nguyên Kon Hà Nừng", "thác Phú Cường", "đồi chè Bàu Cạn"),
        festival="Lễ hội cồng chiêng",
        party_body="Tỉnh ủy",
    ),
    "Lào Cai": Province(
        name="Lào Cai",
        places=("xã Bát Xát", "xã Bắc Hà", "xã Văn Bàn", "xã Mù Cang Chải", "xã Trạm Tấu", "xã Mường Hum"),
        wards=("phường Cam Đường", "phường Yên Bái", "phường Sa Pa", "phường Nghĩa Lộ"),
        crops=("chè Shan tuyết", "quế", "mận Tam hoa", "lúa nếp Tan", "dược liệu"),
        landmarks=("đỉnh Fansipan", "ruộng bậc thang Mù Cang Chải", "chợ phiên Bắc Hà", "cửa khẩu Kim Thành"),
        festival="Lễ hội Gầu Tào",
        party_body="Tỉnh uỷ",
    ),
    "Cần Thơ": Province(
        name="Cần Thơ",
        places=("xã Phong Điền", "xã Thới Lai", "xã Vĩnh Thạnh", "xã Cờ Đỏ", "xã Long Phú", "xã Hòa An"),
        wards=("phường Ninh Kiều", "phường Cái Răng", "phường Ô Môn", "phường Sóc Trăng", "phường Vị Thanh"),
        crops=("lúa chất lượng cao", "sầu riêng", "bưởi Năm Roi", "khóm", "vú sữa"),
        landmarks=("chợ nổi Cái Răng", "bến Ninh Kiều", "cồn Sơn", "vườn cò Bằng Lăng"),
        festival="Lễ hội Văn hoá Sông nước",
        party_body="Thành uỷ",
        kind="thành phố",
    ),
}

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Dương")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Thanh", "Quốc", "Ngọc", "Đức")
GIVEN = ("Bình", "Cường", "Dũng", "Hạnh", "Hòa", "Hoà", "Khánh", "Lan", "Long", "Nam", "Phúc", "Sơn", "Thủy")
TITLES = (
    "Phó Chủ tịch UBND {province_full}",
    "Giám đốc Sở Nông nghiệp và Môi trường",
    "Bí thư Đảng ủy {place}",
    "Chủ tịch UBND {place}",
    "Phó Giám đốc Sở Giáo dục và Đào tạo",
    "Giám đốc Sở Văn hóa, Thể thao và Du lịch",
    "Chủ tịch Ủy ban MTTQ Việt Nam {province}",
)

# Reporters: (display name, initials). The initials are used in "Tin, ảnh: X.Y" bylines.
REPORTERS = (
    ("Lê Ánh", "L.Á"),
    ("Anh Dũng", "A.D"),
    ("Ngọc Minh", "N.M"),
    ("Phương Vy", "P.V"),
    ("Minh Lý", "M.L"),
    ("Hữu Phúc", "H.P"),
    ("Hoàng Yến", "H.Y"),
    ("Đức Thụy", "Đ.T"),
    ("Thanh Hoà", "T.H"),
    ("Bảo Trân", "B.T"),
)

WHEN = ("Sáng {d}-{m}", "Chiều {d}-{m}", "Ngày {d}-{m}", "Tối {d}-{m}", "Sáng {d}/{m}", "Chiều {d}/{m}")

TITLE_POOL: dict[str, tuple[str, ...]] = {
    "meeting": (
        "{province} triển khai nhiệm vụ trọng tâm năm {year}",
        "HĐND {province_full} thông qua {n} nghị quyết về phát triển kinh tế - xã hội",
        "Lãnh đạo {province} làm việc với {place} về tiến độ giải ngân vốn đầu tư công",
        "Hội nghị sơ kết công tác cải cách hành chính tại {place}",
        "{party_body} {province} quán triệt chủ trương sắp xếp bộ máy",
        "Tiếp xúc cử tri tại {place}: nhiều kiến nghị về đất đai và môi trường",
    ),
    "infrastructure": (
        "Đẩy nhanh tiến độ nâng cấp tuyến đường qua {place}",
        "Khởi công cầu dân sinh nối {place} với trung tâm {province}",
        "{province} dành {money} tỉ đồng cho các công trình giao thông trọng điểm",
        "Hoàn thành kè chống sạt lở bảo vệ khu dân cư {place}",
        "Sớm bàn giao mặt bằng dự án đường vành đai tại {ward}",
    ),
    "agriculture": (
        "Nông dân {place} trúng mùa {crop}",
        "Mở rộng vùng trồng {crop} đạt chuẩn xuất khẩu tại {place}",
        "{province} có thêm {n} sản phẩm OCOP từ {crop}",
        "Liên kết tiêu thụ {crop}: hướng đi bền vững cho hợp tác xã ở {place}",
        "Chuyển đổi {ha} ha đất kém hiệu quả sang trồng {crop}",
    ),
    "education": (
        "Học sinh {place} vào năm học mới với trường lớp khang trang",
        "{province} tuyển dụng {n} giáo viên cho vùng khó khăn",
        "Trao {n} suất học bổng cho học sinh nghèo vượt khó tại {ward}",
        "Đưa chuyển đổi số vào nhà trường: kinh nghiệm từ {place}",
        "Xây dựng trường học hạnh phúc ở {place}",
    ),
    "culture": (
        "Rộn ràng {festival} tại {place}",
        "Bảo tồn nghề dệt thổ cẩm truyền thống ở {place}",
        "Đưa {landmark} thành điểm đến hấp dẫn của du lịch {province}",
        "Giữ gìn bản sắc văn hoá trong đời sống mới tại {place}",
        "Liên hoan nghệ thuật quần chúng {province} năm {year} thu hút {n} diễn viên",
    ),
}

LEAD_POOL: dict[str, tuple[str, ...]] = {
    "meeting": (
        "{when}, UBND {province_full} tổ chức hội nghị đánh giá kết quả thực hiện nhiệm vụ phát triển "
        "kinh tế - xã hội và bàn giải pháp cho những tháng cuối năm.",
        "{when}, tại {ward}, Thường trực HĐND {province_full} chủ trì phiên giải trình về công tác quản lý "
        "đất đai và bảo vệ môi trường.",
        "{when}, đoàn công tác của {party_body} {province} do {person}, làm trưởng đoàn, đã làm việc "
        "với {place} về công tác xây dựng Đảng và hệ thống chính trị.",
    ),
    "infrastructure": (
        "{when}, Ban Quản lý dự án đầu tư xây dựng {province_full} cho biết tiến độ nâng cấp tuyến đường "
        "qua {place} đã đạt khoảng {pct}% khối lượng.",
        "{when}, {person}, đã kiểm tra thực địa các công trình giao thông trọng điểm trên địa bàn {place}.",
        "{when}, UBND {place} phối hợp với nhà thầu tổ chức khởi công công trình cầu dân sinh với tổng "
        "mức đầu tư hơn {money} tỉ đồng.",
    ),
    "agriculture": (
        "{when}, Sở Nông nghiệp và Môi trường {province_full} cho biết toàn tỉnh đã có {ha} ha {crop} được "
        "cấp mã số vùng trồng.",
        "{when}, tại {place}, hợp tác xã nông nghiệp đã ký kết hợp đồng bao tiêu {crop} với doanh "
        "nghiệp, mở ra đầu ra ổn định cho hàng trăm hộ dân.",
        "{when}, nông dân ở {place} bước vào vụ thu hoạch {crop} với năng suất cao hơn năm trước.",
    ),
    "education": (
        "{when}, Sở Giáo dục và Đào tạo {province_full} tổ chức hội nghị tổng kết năm học và triển khai "
        "nhiệm vụ năm học mới.",
        "{when}, tại {ward}, Hội Khuyến học {province_full} đã trao {n} suất học bổng cho học sinh có hoàn "
        "cảnh khó khăn.",
        "{when}, các trường học trên địa bàn {place} đồng loạt tổ chức lễ khai giảng trong không khí "
        "phấn khởi.",
    ),
    "culture": (
        "{when}, tại {place}, {festival} năm {year} đã chính thức khai mạc với sự tham gia của đông "
        "đảo người dân và du khách.",
        "{when}, Sở Văn hóa, Thể thao và Du lịch {province_full} phối hợp với {place} tổ chức chương trình "
        "quảng bá du lịch gắn với {landmark}.",
        "{when}, nghệ nhân ở {place} đã trình diễn các làn điệu dân ca trong không gian văn hoá truyền "
        "thống.",
    ),
}

BODY_POOL: dict[str, tuple[str, ...]] = {
    "meeting": (
        "Theo báo cáo, tổng sản phẩm trên địa bàn ước tăng {pct}% so với cùng kỳ, thu ngân sách đạt "
        "hơn {money} tỉ đồng.",
        "Các đại biểu đã tập trung thảo luận những khó khăn trong giải phóng mặt bằng, giải ngân vốn "
        "đầu tư công và thu hút doanh nghiệp.",
        "Công tác cải cách hành chính có nhiều chuyển biến, tỉ lệ hồ sơ giải quyết đúng hạn đạt {pct}%.",
        "Ủy ban MTTQ Việt Nam các cấp đã tiếp nhận {n} ý kiến, kiến nghị của cử tri và chuyển đến cơ "
        "quan chức năng xem xét.",
        "Công tác hoà giải ở cơ sở được quan tâm, nhiều vụ việc được giải quyết ngay từ thôn, tổ dân phố.",
        "Ban Thường vụ {party_body} yêu cầu các địa phương rà soát, sắp xếp đội ngũ cán bộ bảo đảm "
        "đúng quy định.",
        "Bên cạnh kết quả đạt được, một số chỉ tiêu về thu hút đầu tư và phát triển doanh nghiệp còn "
        "thấp so với kế hoạch.",
        "Hội nghị cũng đã biểu dương {n} tập thể và cá nhân có thành tích xuất sắc trong phong trào "
        "thi đua yêu nước.",
    ),
    "infrastructure": (
        "Tuyến đường có chiều dài khoảng {km} km, mặt đường rộng 9 m, được thiết kế theo tiêu chuẩn "
        "đường cấp III đồng bằng.",
        "Hiện nhà thầu đã huy động {n} công nhân cùng hàng chục máy móc, thiết bị thi công cả ngày lẫn đêm.",
        "Khó khăn lớn nhất là còn một số hộ dân chưa đồng thuận với phương án bồi thường, hỗ trợ.",
        "Địa phương đã thành lập tổ công tác đến từng nhà vận động, giải thích chính sách cho người dân.",
        "Khi hoàn thành, công trình sẽ rút ngắn thời gian đi lại và tạo động lực phát triển cho vùng.",
        "Nguồn vốn thực hiện dự án được bố trí từ ngân sách trung ương và ngân sách tỉnh giai đoạn "
        "2021 - 2025.",
        "Đơn vị tư vấn giám sát được yêu cầu kiểm soát chặt chẽ chất lượng vật liệu và an toàn lao động.",
        "Đến nay, đã có {pct}% diện tích mặt bằng được bàn giao cho chủ đầu tư.",
    ),
    "agriculture": (
        "Năm nay, toàn tỉnh có {ha} ha {crop}, sản lượng ước đạt {n} tấn.",
        "Giá bán tại vườn dao động từ {price} đồng/kg, người trồng có lãi khá sau khi trừ chi phí.",
        "Nhiều hộ đã mạnh dạn áp dụng quy trình VietGAP, sử dụng phân bón hữu cơ và tưới nhỏ giọt "
        "tiết kiệm nước.",
        "Hợp tác xã hiện có {n} thành viên, liên kết sản xuất trên diện tích hơn {ha} ha.",
        "Ngành nông nghiệp khuyến cáo nông dân không chạy theo phong trào, chỉ mở rộng diện tích ở "
        "vùng phù hợp.",
        "Địa phương hỗ trợ giống, vật tư và tập huấn kỹ thuật cho các hộ tham gia mô hình.",
        "Thời tiết thuận lợi, sâu bệnh được kiểm soát tốt nên năng suất tăng khoảng {pct}% so với vụ trước.",
        "Sản phẩm được truy xuất nguồn gốc bằng mã QR, tạo thuận lợi khi đưa lên các sàn thương mại điện tử.",
    ),
    "education": (
        "Năm học này, toàn tỉnh có hơn {n} học sinh ở các cấp học, tăng so với năm học trước.",
        "Ngành giáo dục đã bố trí đủ sách giáo khoa và đồ dùng dạy học cho các lớp thực hiện chương "
        "trình mới.",
        "Tỉ lệ trường đạt chuẩn quốc gia đạt {pct}%, nhiều điểm trường lẻ được đầu tư xây dựng kiên cố.",
        "Tình trạng thiếu giáo viên ở một số môn học vẫn chưa được giải quyết triệt để.",
        "Các em học sinh dân tộc thiểu số được hỗ trợ tiền ăn, chỗ ở theo chính sách của Nhà nước.",
        "Nhà trường chú trọng giáo dục kỹ năng sống, giúp học sinh hòa nhập và tự tin hơn.",
        "Phong trào khuyến học, khuyến tài được các dòng họ, thôn bản hưởng ứng tích cực.",
        "Việc ứng dụng công nghệ thông tin trong quản lý hồ sơ, sổ điểm giúp giảm áp lực cho giáo viên.",
    ),
    "culture": (
        "Chương trình gồm nhiều hoạt động như trình diễn trang phục truyền thống, thi ẩm thực và các "
        "trò chơi dân gian.",
        "Những năm gần đây, lượng khách đến {landmark} tăng mạnh, đạt khoảng {n} lượt mỗi năm.",
        "Các nghệ nhân cao tuổi vẫn miệt mài truyền dạy cho lớp trẻ để nghề truyền thống không bị mai một.",
        "Địa phương khuyến khích người dân làm du lịch cộng đồng, giữ nguyên kiến trúc nhà truyền thống.",
        "Ngành văn hoá đã số hóa nhiều tư liệu quý về lễ hội, tập quán của đồng bào các dân tộc.",
        "Nhiều tiết mục mang đậm bản sắc được dàn dựng công phu, để lại ấn tượng với khán giả.",
        "Doanh thu từ dịch vụ lưu trú, ăn uống và bán sản phẩm thủ công tăng rõ rệt trong mùa lễ hội.",
        "Không gian văn hóa cồng chiêng, hát then, đờn ca tài tử được đưa vào trường học.",
    ),
}

QUOTES = (
    "“Chúng tôi xác định đây là nhiệm vụ trọng tâm, phải làm đến nơi đến chốn”, {person}, nhấn mạnh.",
    "Phát biểu tại buổi làm việc, {person}, đề nghị các đơn vị “nói đi đôi với làm, tránh hình thức”.",
    "“Người dân đồng thuận thì việc khó mấy cũng làm được”, ông {given}, một người dân ở {place}, chia sẻ.",
    "Theo {person}, thời gian tới địa phương sẽ tiếp tục tháo gỡ vướng mắc để “không ai bị bỏ lại phía sau”.",
    "Bà {given}, một hộ dân ở {place}, vui vẻ cho biết: “Cuộc sống gia đình tôi đã khá hơn nhiều so "
    "với trước”.",
)

CLOSINGS = (
    "Thời gian tới, địa phương tiếp tục rà soát, tháo gỡ khó khăn để hoàn thành các chỉ tiêu đề ra.",
    "Kết luận buổi làm việc, {person}, đề nghị các sở, ngành phối hợp chặt chẽ, phân công rõ người, rõ việc.",
    "Dịp này, ban tổ chức đã trao giấy khen cho các tập thể, cá nhân có nhiều đóng góp.",
    "Mục tiêu đến năm 2030, {province} phấn đấu trở thành địa phương phát triển khá của khu vực.",
)

CAPTIONS: dict[str, tuple[str, ...]] = {
    "meeting": ("Quang cảnh hội nghị", "{person}, phát biểu tại buổi làm việc", "Các đại biểu biểu quyết"),
    "infrastructure": ("Thi công mặt đường qua {place}", "Lãnh đạo tỉnh kiểm tra công trường", "Cầu mới"),
    "agriculture": (
        "Nông dân {place} thu hoạch {crop}",
        "Vườn {crop} đạt chuẩn VietGAP",
        "Đóng gói sản phẩm",
    ),
    "education": (
        "Học sinh {place} trong giờ học",
        "Trao học bổng cho học sinh",
        "Lễ khai giảng năm học mới",
    ),
    "culture": ("Biểu diễn tại {festival}", "Du khách tham quan {landmark}", "Nghệ nhân dệt thổ cẩm"),
}

RELATED_HEADINGS = ("Tin liên quan", "Có thể bạn quan tâm", "Đọc thêm")

_DIACRITIC_MAP = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def slugify(text: str, max_len: int = 90) -> str:
    """ASCII slug like the CMS produce: no diacritics, lowercase, hyphens, truncated."""
    plain = unicodedata.normalize("NFD", text.translate(_DIACRITIC_MAP))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return slug[:max_len].rstrip("-")


def vn_number(value: int) -> str:
    """1414 -> '1.414' (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


class Filler:
    """Fills the templates for one article with consistent, deterministic values."""

    def __init__(
        self, rng: random.Random, province: Province, day: int, month: int, year: int, same_day_hour: int = 24
    ) -> None:
        self.rng = rng
        self.province = province
        self.place = rng.choice(province.places)
        self.ward = rng.choice(province.wards)
        self.crop = rng.choice(province.crops)
        self.landmark = rng.choice(province.landmarks)
        official = person_name(rng)
        title = rng.choice(TITLES).format(
            province=province.full, province_full=province.full, place=self.place
        )
        honorific = "bà" if official.split()[1] == "Thị" else "ông"
        self.person = f"{honorific} {official}, {title}"
        self.day, self.month, self.year = day, month, year
        # an event reported the same day must have happened before publication
        self.when = [w for w in WHEN if same_day_hour >= 18 or not w.startswith("Tối")]
        if same_day_hour < 13:
            self.when = [w for w in self.when if not w.startswith("Chiều")]

    def values(self) -> dict[str, str]:
        rng = self.rng
        return {
            "province": self.province.name,
            "province_full": self.province.full,
            "party_body": self.province.party_body,
            "place": self.place,
            "ward": self.ward,
            "crop": self.crop,
            "landmark": self.landmark,
            "festival": self.province.festival,
            "person": self.person,
            "given": rng.choice(GIVEN),
            "year": str(self.year),
            "n": vn_number(rng.choice((12, 35, 48, 120, 256, 1200, 3450, 15400))),
            "pct": rng.choice(("8,5", "12", "95,6", "98", "70", "4,2")),
            "money": vn_number(rng.choice((45, 120, 350, 1414, 2880))),
            "ha": vn_number(rng.choice((150, 420, 1414, 2500, 12300))),
            "km": rng.choice(("5,6", "12", "18,4", "27")),
            "price": rng.choice(("25.000 - 30.000", "45.000 - 52.000", "12.000 - 15.000")),
            "when": rng.choice(self.when).format(d=self.day, m=self.month),
        }

    def fill(self, template: str) -> str:
        text = re.sub(r"\s+", " ", template.format(**self.values())).strip()
        return nfc(text[:1].upper() + text[1:])
