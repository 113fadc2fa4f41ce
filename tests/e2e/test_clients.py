"""Real public Capillary clients, replayed over HTTP against the local stack: each test is one client's flow,
with the URLs, headers and bodies the client's code builds, read the way that code reads the answers (XML
by path, JSON by key, a list of one read as an object, a body thrown away unless the status is 200).

Every test loads customers of its own (ids 72xx in the demo org, or an org of its own for the NCR POS), so
the other end-to-end tests' demo customers are not touched and the order of the tests does not matter."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from points_admin.cli import main as admin
from tests.e2e.conftest import Api
from tests.factories import basic_auth
from tests.http_json import Reply, send

pytestmark = pytest.mark.e2e

DEMO_ORG = 100737
DEMO_TILL = basic_auth("demo.till", "demo-till-password")
DEMO_TIMEZONE = ZoneInfo("Asia/Kolkata")

# The NCR POS's org: validation is not mandatory there (the client redeems with validation_code "").
NCR_ORG = 100946
NCR_PROGRAM = 5101
NCR_TILL_USER = "ncr.pos.e2e"
NCR_TILL_PASSWORD = "ncr-pos-e2e-password"
NCR_TIMEZONE = ZoneInfo("Asia/Bangkok")
NCR_ORG_YAML = f"""\
org_id: {NCR_ORG}
name: NCR POS end-to-end
timezone: Asia/Bangkok
country_code: "66"
mobile_national_digits: 9
base_currency: THB
default_program_id: {NCR_PROGRAM}
validation_required: false
programs:
  - program_id: {NCR_PROGRAM}
    name: NCR Rewards
    points_currency_ratio: "0.25"
    rules:
      min_points: 1
stores:
  - store_id: "NCR-01"
    name: NCR store
    program_id: {NCR_PROGRAM}
tills:
  - username: {NCR_TILL_USER}
    password: {NCR_TILL_PASSWORD}
    store_id: "NCR-01"
"""


# --- the wire -------------------------------------------------------------------------------------------


def call(api: Api, method: str, target: str, headers: dict[str, str], body: bytes | None = None) -> Reply:
    """One request exactly as the client builds it: `target` is the path and query string as the client
    concatenates them, `headers` all it sends (Authorization included)."""
    request = urllib.request.Request(f"{api.url}{target}", data=body, method=method, headers=headers)
    return send(request, parse_float=Decimal)


def is_xml(reply: Reply) -> ElementTree.Element:
    assert reply.headers.get_content_type() in ("application/xml", "text/xml")
    assert isinstance(reply.body, ElementTree.Element)
    assert reply.body.tag == "response"
    return reply.body


def is_json(reply: Reply) -> dict[str, Any]:
    assert reply.headers.get_content_type() == "application/json"
    assert isinstance(reply.body, dict)
    return reply.body


def has_request_id(reply: Reply) -> str:
    request_id = reply.headers.get("X-Cap-RequestID")
    assert request_id, f"no X-Cap-RequestID on the {reply.status} answer"
    return request_id


def node(document: ElementTree.Element, path: str) -> str:
    """The text of the element at `path` (relative to the document element, or `.//` anywhere), as an XML
    client reads it; the element must be there."""
    found = document.find(path)
    assert found is not None, f"no {path} in {ElementTree.tostring(document, encoding='unicode')}"
    return found.text or ""


def js_parse_float(text: Any) -> int | float:
    """`parseFloat(x)` put through `JSON.stringify`: 150, not 150.0."""
    number = float(text)
    return int(number) if number.is_integer() else number


# --- data -----------------------------------------------------------------------------------------------


def load(api: Api, folder: Path, org: int, customer: dict[str, str], allocations: list[str]) -> None:
    """One customer and its allocations, with the operator tool (the demo files' formats)."""
    (folder / "customers.csv").write_text(",".join(customer) + "\n" + ",".join(customer.values()) + "\n")
    (folder / "allocations.csv").write_text(
        "customer_id,program_id,allocation_id,points,awarded_at,expires_at\n" + "".join(allocations)
    )
    for command, name in (("import-customers", "customers.csv"), ("import-allocations", "allocations.csv")):
        assert admin([*api.admin_options, command, str(folder / name), "--org", str(org)]) == 0


def demo_customer(api: Api, folder: Path, customer_id: str, points: int = 1000) -> dict[str, str]:
    customer = {
        "customer_id": customer_id,
        "mobile": f"91900000{customer_id}",
        "email": f"client.{customer_id}@example.com",
        "external_id": f"FFN{customer_id}000",
        "first_name": "Client",
    }
    allocation = (
        f"{customer_id},973,{customer_id}-A,{points},2026-01-01T00:00:00+05:30,2031-01-01T00:00:00+05:30\n"
    )
    load(api, folder, DEMO_ORG, customer, [allocation])
    return customer


def code_sent_to(api: Api, mobile: str) -> str:
    """The validation code, as the customer reads it in the SMS (the local outbox)."""
    with urllib.request.urlopen(f"{api.url}/_local/outbox?destination={mobile}", timeout=10) as response:
        messages: list[dict[str, Any]] = json.load(response)["messages"]
    sms = [message for message in messages if message["channel"] == "sms"]
    assert len(sms) == 1, sms
    code: str = sms[0]["message"].split()[0]
    return code


def now_in(zone: ZoneInfo) -> str:
    return datetime.now(zone).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture(scope="module")
def ncr_org(api: Api, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An org where validation is not mandatory, its till, and one customer with 1,000 points."""
    folder = tmp_path_factory.mktemp("ncr")
    (folder / "org.yaml").write_text(NCR_ORG_YAML)
    assert admin([*api.admin_options, "apply-config", str(folder / "org.yaml")]) == 0
    customer = {
        "customer_id": "1",
        "mobile": "66812345001",
        "email": "ncr.customer@example.com",
        "external_id": "NCR-CARD-0001",
        "first_name": "Somchai",
    }
    allocation = f"1,{NCR_PROGRAM},NCR-A1,1000,2026-01-01T00:00:00+07:00,2031-01-01T00:00:00+07:00\n"
    load(api, folder, NCR_ORG, customer, [allocation])
    return customer


# --- 1. Semnox Parafait (C#, XML) -----------------------------------------------------------------------


class Semnox:
    """`HttpUtilsDataHandler.RestClient`: HttpWebRequest with `ContentType = "text/xml"` on every request,
    GET included, no Accept header, and a NetworkCredential (MD5 password) with PreAuthenticate: the first
    request goes without credentials and is sent again after the Basic challenge; later ones send them at
    once. Any status but 200 throws."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.authenticated = False

    def make_request(self, method: str, target: str, post_data: str = "") -> ElementTree.Element:
        headers = {"Content-Type": "text/xml"}
        body = post_data.encode("iso-8859-1") if post_data else None
        if not self.authenticated:
            challenge = call(self.api, method, target, headers, body)
            assert challenge.status == 401
            assert (challenge.headers.get("WWW-Authenticate") or "").startswith("Basic")
            has_request_id(challenge)
            self.authenticated = True
        reply = call(self.api, method, target, {**headers, "Authorization": DEMO_TILL}, body)
        assert reply.status == 200, f"Request failed. Received HTTP {reply.status}"
        has_request_id(reply)
        return is_xml(reply)


def test_semnox_parafait_validation_code_isredeemable_and_xml_redeem(api: Api, tmp_path: Path) -> None:
    mobile = demo_customer(api, tmp_path, "7201")["mobile"]
    semnox = Semnox(api)

    # ReceiveValidationCode: the client's URL has a stray "&<query" in it (HttpWebRequest escapes the "<").
    issued = semnox.make_request(
        "GET", f"/v1.1/points/validationcode?format=xml&%3Cquery&mobile={mobile}&points=100"
    )
    assert node(issued, "status/success") == "true"
    assert node(issued, "status/code") == "200"
    assert (
        node(issued, "validation_code/code/item_status/message") == "Validation Code Issued by SMS and Email"
    )
    code = code_sent_to(api, mobile)
    assert code not in ElementTree.tostring(issued, encoding="unicode")

    checked = semnox.make_request(
        "GET", f"/v1.1/points/isredeemable?format=xml&points=100&validation_code={code}&mobile={mobile}"
    )
    assert node(checked, "status/success") == "true"
    assert node(checked, "status/code") == "200"
    assert node(checked, "points/redeemable/points") == "100"
    assert node(checked, "points/redeemable/is_redeemable") == "true"
    assert node(checked, "points/redeemable/item_status/message") == "Points can be redeemed"

    # What XmlSerializer writes (indented, CRLF), without the XML declaration the client strips.
    body = (
        "<root>\r\n  <redeem>\r\n    <points_redeemed>100</points_redeemed>\r\n"
        "    <transaction_number>SEMNOX-1</transaction_number>\r\n"
        f"    <customer>\r\n      <mobile>{mobile}</mobile>\r\n      <email></email>\r\n    </customer>\r\n"
        f"    <notes></notes>\r\n    <validation_code>{code}</validation_code>\r\n"
        f"    <redemption_time>{now_in(DEMO_TIMEZONE)}</redemption_time>\r\n  </redeem>\r\n</root>"
    )
    redeemed = semnox.make_request("POST", "/v1.1/points/redeem?format=xml", body)
    assert node(redeemed, "status/success") == "true"
    assert node(redeemed, "status/code") == "200"
    # The issue has the client read "response/responses/points/item_status/...": that is a path from the
    # XmlDocument; from the document element (`response`) it is "responses/points/item_status/...".
    assert node(redeemed, "responses/points/item_status/message") == "Points Redeemed"
    assert node(redeemed, "responses/points/item_status/success") == "true"
    assert node(redeemed, "responses/points/item_status/code") == "800"
    assert len(redeemed.findall("responses/points")) == 1
    assert len(node(redeemed, "responses/points/redemption_id")) == 6
    assert node(redeemed, "responses/points/balance") == "900"
    assert node(redeemed, "responses/points/side_effects/effect/redeemed_on_bill_number") == "SEMNOX-1"


# --- 2. Dynamics NAV / AL (XML, read by XPath) ----------------------------------------------------------


def test_dynamics_nav_reads_the_xml_answers_by_xpath(api: Api, tmp_path: Path) -> None:
    mobile = demo_customer(api, tmp_path, "7202")["mobile"]
    # The AL code's DLL (not public) is called with the location's Capillary ID and password: Basic.
    auth = {"Authorization": DEMO_TILL}

    issued = call(api, "GET", f"/v1.1/points/validationcode?format=xml&mobile={mobile}&points=200", auth)
    assert issued.status == 200
    has_request_id(issued)
    document = is_xml(issued)
    assert node(document, ".//status/success") == "true"
    assert node(document, ".//validation_code/code/item_status/message").startswith("Validation Code Issued")
    code = code_sent_to(api, mobile)

    # ValidateValidationCodeForPoints
    checked = call(
        api,
        "GET",
        f"/v1.1/points/isredeemable?format=xml&points=200&validation_code={code}&mobile={mobile}",
        auth,
    )
    assert checked.status == 200
    document = is_xml(checked)
    assert node(document, ".//status/success") == "true"
    assert (
        Decimal(node(document, ".//points/redeemable/points_redeem_value")) == 100
    )  # "Point Redeem Value In Rs."
    assert Decimal(node(document, ".//points/redeemable/points_currency_ratio")) == Decimal("0.5")

    # Post_Point: the XML the client posts is built by a codeunit that is not public; this is the shape of
    # Capillary's documented XML sample (empty identifiers included).
    body = (
        "<root><redeem><points_redeemed>200</points_redeemed><transaction_number>NAV-SO-1001</transaction_number>"
        f"<customer><mobile>{mobile}</mobile><email></email><external_id></external_id></customer>"
        f"<notes>Sales order NAV-SO-1001</notes><validation_code>{code}</validation_code>"
        f"<redemption_time>{now_in(DEMO_TIMEZONE)}</redemption_time></redeem></root>"
    )
    headers = {**auth, "Content-Type": "application/xml; charset=utf-8"}
    redeemed = call(api, "POST", "/v1.1/points/redeem?format=xml", headers, body.encode())
    assert redeemed.status == 200
    has_request_id(redeemed)
    document = is_xml(redeemed)
    # Post_Point_Responce
    assert node(document, ".//status/success") == "true"
    assert node(document, ".//responses/points/item_status/message") == "Points Redeemed"
    assert node(document, ".//responses/points/balance") == "800"


# --- 3. NCR POS (Java, Gson, JSON) ----------------------------------------------------------------------


def test_ncr_pos_redeems_without_a_code_where_validation_is_not_mandatory(
    api: Api, ncr_org: dict[str, str]
) -> None:
    # Jersey: Basic with the MD5 password, `accept(MediaType.APPLICATION_XML)` although it asks format=json.
    auth = basic_auth(NCR_TILL_USER, NCR_TILL_PASSWORD)
    headers = {"Authorization": auth, "Accept": "application/xml"}
    mobile = "0812345001"  # as the POS has it: the national form

    # pointsIsRedeemable / checkPointsCard
    checked = call(api, "GET", f"/v1.1/points/isredeemable?format=json&points=300&mobile={mobile}", headers)
    assert checked.status == 200
    has_request_id(checked)
    response = is_json(checked)["response"]
    assert response["status"]["success"] == "true"
    n_points_redeem = int(response["points"]["redeemable"]["points"])  # a Java long
    discount_value = int(float(str(response["points"]["redeemable"]["points_redeem_value"])) * 100)
    assert (n_points_redeem, discount_value) == (300, 7500)

    # pointsRedeem / fullStructRequestPointsRedeem (Gson, LOWER_CASE_WITH_UNDERSCORES): a list of one.
    item = {
        "points_redeemed": n_points_redeem,
        "transaction_number": "NCR-TRA-0042",
        "customer": {"mobile": mobile, "email": "", "external_id": ncr_org["external_id"]},
        "notes": "",
        "validation_code": "",
        "redemption_time": now_in(NCR_TIMEZONE),
    }
    body = json.dumps({"root": {"redeem": [item]}}).encode()
    redeemed = call(
        api, "POST", "/v1.1/points/redeem?format=json", {**headers, "Content-Type": "application/json"}, body
    )
    assert redeemed.status == 200
    has_request_id(redeemed)
    response = is_json(redeemed)["response"]
    assert response["status"]["success"] == "true"
    points = response["responses"]["points"]
    assert isinstance(points, dict)  # the Java model has an object here: a list would not deserialize
    assert points["item_status"]["code"] == 800
    assert len(points["redemption_id"]) == 6
    assert (points["mobile"], points["balance"]) == ("66812345001", 700)

    after = call(api, "GET", f"/v1.1/points/isredeemable?format=json&points=701&mobile={mobile}", headers)
    assert is_json(after)["response"]["points"]["redeemable"]["item_status"]["code"] == 818
    enough = call(api, "GET", f"/v1.1/points/isredeemable?format=json&points=700&mobile={mobile}", headers)
    assert is_json(enough)["response"]["points"]["redeemable"]["item_status"]["code"] == 800


# --- 4. Capillary Neo dataflow (JavaScript, partner points) ---------------------------------------------


def test_neo_dataflow_redeems_then_compensates_with_a_reversal(api: Api, tmp_path: Path) -> None:
    ffn = demo_customer(api, tmp_path, "7203")["external_id"]
    # getEffectiveHeaders(): the Trigger's Content-Type, the literals' signature flag and Accept; no format.
    # (The dataflow authenticates with X-CAP-API-OAUTH-TOKEN; Basic stands in for it here.)
    headers = {
        "Authorization": DEMO_TILL,
        "Content-Type": "application/json",
        "X-CAP-CLIENT-SIGNATURE": "true",
        "Accept": "application/json",
    }
    payload = {
        "POINTS_CONVERSION": "150",
        "FFN": ffn,
        "NOTES": "Accor ALL conversion",
        "custom_fields": {
            "field": [{"name": "partner_code", "value": "ACCOR"}, {"name": "pmid", "value": "308"}]
        },
    }
    body = {
        "root": {
            "redeem": [
                {
                    "points_redeemed": js_parse_float(payload["POINTS_CONVERSION"]),
                    "customer": {"external_id": payload["FFN"]},
                    "notes": payload["NOTES"],
                    "custom_fields": payload["custom_fields"],
                }
            ]
        }
    }
    redeemed = call(
        api, "POST", "/v1.1/points/redeem?skip_validation=true", headers, json.dumps(body).encode()
    )
    assert redeemed.status == 200  # dao.isSuccess()
    has_request_id(redeemed)
    response = is_json(redeemed)["response"]
    assert response["status"]["success"] == "true"  # not the `=== "false"` branch
    points = response["responses"]["points"]
    assert points["item_status"]["code"] == 800
    redemption_id, points_redeemed, external_id = (
        points["redemption_id"],
        points["points_redeemed"],
        points["external_id"],
    )
    assert (points_redeemed, external_id, points["balance"]) == ("150", ffn, 850)

    # CreatePayloadForReverseRedeemApi, as if the partner credit had failed.
    reverse = {
        "redemptionId": redemption_id,
        "pointsToBeReversed": js_parse_float(points_redeemed),
        "identifier": {"type": "externalId", "value": external_id},
    }
    reversed_ = call(api, "POST", "/v2/points/reverse", headers, json.dumps(reverse).encode())
    assert reversed_.status == 200
    has_request_id(reversed_)
    answer = is_json(reversed_)
    assert answer["orgId"] == DEMO_ORG  # the dataflow's success test: dao.getBody()?.orgId
    assert (answer["redemptionId"], answer["pointsReversed"], answer["pointsToBeReversed"]) == (
        redemption_id,
        150,
        150,
    )
    assert answer["pointsReversedDetails"] == {"available": 150, "expired": 0}
    assert answer["reversalId"]

    # Compensating twice: "already reversed" is only recognized on a 2xx (dao.isSuccess()).
    again = call(api, "POST", "/v2/points/reverse", headers, json.dumps(reverse).encode())
    assert again.status == 200
    answer = is_json(again)
    assert "orgId" not in answer
    assert answer["errors"][0]["code"] == 3802

    full = call(api, "GET", f"/v1.1/points/isredeemable?external_id={ffn}&points=1000", headers)
    assert is_json(full)["response"]["points"]["redeemable"]["item_status"]["code"] == 800


# --- 5. WinMart / TCX C# service (Newtonsoft, camelCase) ------------------------------------------------


def test_winmart_reads_one_redemption_as_an_object_and_a_refused_reverse_on_200(
    api: Api, tmp_path: Path
) -> None:
    mobile = demo_customer(api, tmp_path, "7204")["mobile"]
    # ObjectToStringLowercase: CamelCasePropertyNamesContractResolver over the DTOs.
    headers = {"Authorization": DEMO_TILL, "Content-Type": "application/json", "x-winx-loyalty-client": "POS"}

    # PointsRedeemable: Status.Code == 200 and Is_redeemable == "true"; Points_redeem_value is an int.
    checked = call(
        api,
        "GET",
        f"/v1.1/points/isredeemable?mobile={mobile}&format=json&issue_otp=false&points=200",
        headers,
    )
    assert checked.status == 200
    response = is_json(checked)["response"]
    assert (response["status"]["code"], response["points"]["redeemable"]["is_redeemable"]) == (200, "true")
    assert response["points"]["redeemable"]["points_redeem_value"] == 100
    assert isinstance(response["points"]["redeemable"]["points_redeem_value"], int)

    # PointsRedeem: router.Notes carries format and skip_validation; program_id is appended.
    body = {
        "root": {
            "redeem": [
                {
                    "points_redeemed": "200",
                    "transaction_number": "WM-1234-000123",
                    "customer": {"mobile": mobile},
                }
            ]
        }
    }
    redeemed = call(
        api,
        "POST",
        "/v1.1/points/redeem?format=json&skip_validation=true&program_id=973",
        headers,
        json.dumps(body).encode(),
    )
    assert redeemed.status == 200
    has_request_id(redeemed)
    response = is_json(redeemed)["response"]
    assert response["status"]["code"] == 200
    assert response["status"]["success"].upper() == "TRUE"
    points = response["responses"]["points"]  # PointsDataCap, one object
    assert isinstance(points, dict)
    assert points["item_status"]["message"] == "Points Redeemed"
    redemption_id = points["redemption_id"]
    assert str(points["balance"]) == "800"  # Balance is a string property

    # PointReverse: PointsToBeReversed is a long; the identifier is the phone number.
    def reverse(points_to_be_reversed: int) -> Reply:
        request = {
            "redemptionId": redemption_id,
            "pointsToBeReversed": points_to_be_reversed,
            "identifier": {"type": "mobile", "value": mobile},
        }
        return call(api, "POST", "/v2/points/reverse", headers, json.dumps(request).encode())

    part = reverse(150)
    assert part.status == 200
    answer = is_json(part)
    assert answer["orgId"] > 0  # the service's success test
    assert (answer["redemptionId"], answer["pointsReversed"]) == (redemption_id, 150)
    assert answer["pointsReversedDetails"] == {"available": 150, "expired": 0}

    # 100 more than the 50 left: refused, and the body must come on a 200 (any other status loses it).
    refused = reverse(100)
    assert refused.status == 200
    has_request_id(refused)
    answer = is_json(refused)
    assert answer.get("orgId") is None
    assert [error["code"] for error in answer["errors"]] == [3801]

    balance = call(
        api,
        "GET",
        f"/v1.1/points/isredeemable?mobile={mobile}&format=json&issue_otp=false&points=951",
        headers,
    )
    assert is_json(balance)["response"]["points"]["redeemable"]["item_status"]["code"] == 818
    balance = call(
        api,
        "GET",
        f"/v1.1/points/isredeemable?mobile={mobile}&format=json&issue_otp=false&points=950",
        headers,
    )
    assert is_json(balance)["response"]["points"]["redeemable"]["item_status"]["code"] == 800


# --- 6. Rails app boutique_capillaries (rest-client) ----------------------------------------------------


def test_boutique_capillaries_sees_a_wrong_code_as_success_false_on_200(api: Api, tmp_path: Path) -> None:
    mobile = demo_customer(api, tmp_path, "7205")["mobile"]
    # rest-client: Accept */* by default; it raises on any non-2xx status.
    headers = {"Authorization": DEMO_TILL, "Accept": "*/*"}

    issued = call(api, "GET", f"/v1.1/points/validationcode?mobile={mobile}&points=100&format=json", headers)
    assert issued.status == 200
    assert is_json(issued)["response"]["status"]["success"] == "true"
    code = code_sent_to(api, mobile)
    wrong = "111111" if code != "111111" else "222222"

    def point_redeem(validation_code: str) -> dict[str, Any]:
        root = {
            "redeem": {
                "points_redeemed": "100",
                "discount": "10",
                "validation_code": validation_code,
                "customer": {"mobile": mobile},
                "notes": "boutique order",
            }
        }
        reply = call(
            api,
            "POST",
            "/v1.1/points/redeem?format=json",
            {**headers, "Content-Type": "application/json"},
            json.dumps({"root": root}).encode(),
        )
        assert reply.status == 200
        has_request_id(reply)
        response: dict[str, Any] = is_json(reply)["response"]
        return response

    failed = point_redeem(wrong)
    assert failed["status"]["success"] == "false"  # the app's failure test
    assert failed["responses"]["points"]["item_status"]["code"] == 808
    assert failed["responses"]["points"]["item_status"]["success"] == "false"

    done = point_redeem(code)
    assert done["status"]["success"] == "true"
    assert (done["responses"]["points"]["item_status"]["code"], done["responses"]["points"]["balance"]) == (
        800,
        900,
    )


# --- 7. The gateway's own answers -----------------------------------------------------------------------


def test_the_gateways_own_answers_carry_a_request_id(api: Api, ncr_org: dict[str, str]) -> None:
    wrong_password = call(
        api,
        "GET",
        "/v1.1/points/isredeemable?format=json&points=10&mobile=0812345001",
        {"Authorization": basic_auth(NCR_TILL_USER, "not-the-password"), "Accept": "application/json"},
    )
    assert wrong_password.status == 401
    assert is_json(wrong_password)["response"]["status"]["code"] == 401

    unknown_path = call(
        api,
        "GET",
        "/v1.1/points/no_such_route?format=json",
        {"Authorization": DEMO_TILL, "Accept": "application/json"},
    )
    assert unknown_path.status == 404
    assert is_json(unknown_path)["response"]["status"]["code"] == 404
    assert has_request_id(wrong_password) != has_request_id(unknown_path)
