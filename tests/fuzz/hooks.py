"""Schemathesis hooks for fuzzing huddle (loaded with SCHEMATHESIS_HOOKS=hooks).

What they do:

1. Log in one real user, once: `POST /account/captcha` and `POST
   /account/login/captcha` with a test number (the server runs with
   `HUDDLE_SMS_TEST_NUMBERS=86139000*:246810`), then initialise its profile so
   the `Profiled` routes run their handlers. An H5 guest session (`POST
   /h5/session`) is opened the same way for the `/h5/*` routes.
2. Sign every generated request exactly like the app does: `ts` and `sign`
   over the *final* parameters (query string + form or flat JSON body, after
   Schemathesis has serialised them), with the session's `accessSecret` on
   logged-in routes and the default secret on public and H5 routes, and set
   `Authorization` (Basic for logged-in routes, Bearer for H5 routes).

Signing happens on the prepared HTTP request (bytes about to be sent), so what
is signed is what the server parses. `before_call` only tags the request with
the secret it needs (a private header that never leaves the process) and sets
`Authorization`; the patched `requests.Session.send` removes any generated
`ts`/`sign`, adds a fresh `ts` and the `sign`, and sends.

If the fuzzer logs our user out (`POST /account/logout` succeeds), the next
call logs in again.

Environment: HUDDLE_FUZZ_URL (base URL, required), HUDDLE_FUZZ_MOBILE
(default 13900000001), HUDDLE_FUZZ_CAPTCHA (default 246810), HUDDLE_FUZZ_STATS
(a file the number of requests sent is written to at exit).
"""

from __future__ import annotations

import atexit
import base64
import decimal
import hashlib
import json
import os
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import schemathesis

DEFAULT_ACCESS_SECRET = "Hx!0k!K}5E.]EoP"
BASE_URL = os.environ.get("HUDDLE_FUZZ_URL", "http://127.0.0.1:8080").rstrip("/")
MOBILE = os.environ.get("HUDDLE_FUZZ_MOBILE", "13900000001")
CAPTCHA = os.environ.get("HUDDLE_FUZZ_CAPTCHA", "246810")
STATS_FILE = os.environ.get("HUDDLE_FUZZ_STATS")
# Every refused call (HTTP >= 400) as one JSON line: method, path, status, message.
REFUSALS_FILE = os.environ.get("HUDDLE_FUZZ_REFUSALS")

# The private header that carries the signing mode from `before_call` to the
# transport; removed before the request leaves the process.
MODE_HEADER = "X-Huddle-Fuzz-Sign"
MODE_USER = "user"  # session secret
MODE_DEFAULT = "default"  # default secret

_lock = threading.RLock()
_state: dict[str, Any] = {"session": None, "h5": None, "last_ts": 0, "secrets": {}}
_stats = {"requests": 0, "signed": 0, "by_status": {}}


# ---------------------------------------------------------------------------
# Rendering values like the server (serde_json, `preserve_order`)
# ---------------------------------------------------------------------------


def _exp(e: int) -> str:
    return f"+{e}" if e >= 0 else str(e)


def _ryu(x: float) -> str:
    """`f64` as serde_json 1.0.154 writes it: the shortest form (`1.5`, `3.0`,
    `0.00001`, `1e+16`, `1e-7`, `1.5e+300`)."""
    if x == 0.0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    sign = "-" if x < 0 else ""
    # repr() is the shortest round-trip form, as ryu's; only the layout differs.
    d = decimal.Decimal(repr(abs(x))).normalize()
    _, digits_t, k = d.as_tuple()
    digits = "".join(map(str, digits_t))
    length = len(digits)
    kk = length + k
    if 0 <= k and kk <= 16:
        out = digits + "0" * k + ".0"
    elif 0 < kk <= 16:
        out = digits[:kk] + "." + digits[kk:]
    elif -5 < kk <= 0:
        out = "0." + "0" * (-kk) + digits
    elif length == 1:
        out = digits + "e" + _exp(kk - 1)
    else:
        out = digits[0] + "." + digits[1:] + "e" + _exp(kk - 1)
    return sign + out


_U64_MAX = 2**64 - 1
_I32_MAX = 2**31 - 1
_POW10 = [float(f"1e{n}") for n in range(309)]


class _OutOfRange(ValueError):
    pass


def _overflows(a: int, b: int, c: int) -> bool:
    return a >= c // 10 and (a > c // 10 or b > c % 10)


def _f64_from_parts(positive: bool, significand: int, exponent: int) -> float:
    # serde_json without `float_roundtrip`: significand * or / a power of ten,
    # not always the nearest double (the last digit may differ from Python's).
    f = float(significand)
    while True:
        if abs(exponent) < len(_POW10):
            pow10 = _POW10[abs(exponent)]
            if exponent >= 0:
                f *= pow10
                if f == float("inf"):
                    raise _OutOfRange
            else:
                f /= pow10
            break
        if f == 0.0:
            break
        if exponent >= 0:
            raise _OutOfRange
        f /= 1e308
        exponent += 308
    return f if positive else -f


def serde_number(text: str) -> int | float:
    """The number serde_json 1.0.154 (no `float_roundtrip`) parses from JSON
    number `text`: an int when it keeps it as u64/i64, else the f64 it computes."""
    pos = 0
    positive = True
    if text[pos] == "-":
        positive = False
        pos += 1

    def digit_at(i: int) -> int | None:
        return int(text[i]) if i < len(text) and text[i].isdigit() else None

    def exponent_part(i: int, significand: int, starting_exp: int) -> float:
        i += 1  # e / E
        positive_exp = True
        if i < len(text) and text[i] in "+-":
            positive_exp = text[i] == "+"
            i += 1
        exp = 0
        while (d := digit_at(i)) is not None:
            if _overflows(exp, d, _I32_MAX):
                if significand != 0 and positive_exp:
                    raise _OutOfRange
                return 0.0 if positive else -0.0
            exp = exp * 10 + d
            i += 1
        final = starting_exp + exp if positive_exp else starting_exp - exp
        return _f64_from_parts(positive, significand, final)

    def decimal_part(i: int, significand: int, exponent_before: int) -> float:
        i += 1  # .
        after = 0
        while (d := digit_at(i)) is not None:
            if _overflows(significand, d, _U64_MAX):
                while digit_at(i) is not None:
                    i += 1
                break
            significand = significand * 10 + d
            after -= 1
            i += 1
        exponent = exponent_before + after
        if i < len(text) and text[i] in "eE":
            return exponent_part(i, significand, exponent)
        return _f64_from_parts(positive, significand, exponent)

    def rest(i: int, significand: int, exponent: int, integer: bool) -> int | float:
        if i < len(text) and text[i] == ".":
            return decimal_part(i, significand, exponent)
        if i < len(text) and text[i] in "eE":
            return exponent_part(i, significand, exponent)
        if not integer:
            return _f64_from_parts(positive, significand, exponent)
        if positive:
            return significand
        if significand == 0 or significand > 2**63:
            return -float(significand)
        return -significand

    significand = 0
    if text[pos] == "0":
        return rest(pos + 1, 0, 0, True)
    while (d := digit_at(pos)) is not None:
        if _overflows(significand, d, _U64_MAX):
            exponent = 0
            while digit_at(pos) is not None:
                exponent += 1
                pos += 1
            return rest(pos, significand, exponent, False)
        significand = significand * 10 + d
        pos += 1
    return rest(pos, significand, 0, True)


def _number(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    # The body is re-encoded with json.dumps, so the server parses repr().
    value = serde_number(repr(x) if isinstance(x, float) else str(x))
    if isinstance(value, int):
        return str(value)
    return _ryu(value)


def serde_compact(value: Any) -> str:
    """What `serde_json::Value::to_string()` gives for a value parsed from JSON."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(serde_compact(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                json.dumps(k, ensure_ascii=False) + ":" + serde_compact(v)
                for k, v in value.items()
            )
            + "}"
        )
    raise TypeError(f"not a JSON value: {value!r}")


# ---------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------


def canonical(params: list[tuple[str, str]], secret: str) -> str:
    parts = [f"{k}={v}" for k, v in sorted(params, key=lambda kv: kv[0].encode("utf-8", "surrogatepass")) if k != "sign"]
    parts.append(f"accessSecret={secret}")
    return "$$$".join(parts)


def sign(params: list[tuple[str, str]], secret: str) -> str:
    return hashlib.md5(canonical(params, secret).encode("utf-8", "surrogatepass")).hexdigest()


def _fresh_ts() -> int:
    # Strictly increasing, so two identical requests never share a sign (the
    # server answers a repeated (caller, sign) with business code -1).
    with _lock:
        ts = max(int(time.time() * 1000), _state["last_ts"] + 1)
        _state["last_ts"] = ts
        return ts


def _form_pairs(text: str) -> list[tuple[str, str]]:
    # Like url::form_urlencoded::parse: `+` is a space, empty pieces skipped,
    # a piece without `=` is a key with an empty value, bad UTF-8 is replaced.
    return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")


def _strip(raw: str) -> str:
    """`raw` (a query string or form body) without its `ts`/`sign` pieces, the rest byte for byte."""
    kept = [piece for piece in raw.split("&") if not any(k in ("ts", "sign") for k, _ in _form_pairs(piece))]
    return "&".join(kept)


def _append(raw: str, extra: list[tuple[str, str]]) -> str:
    return raw + ("&" if raw else "") + urlencode(extra)


def _sign_prepared(request: requests.PreparedRequest, secret: str) -> None:
    """Drops any generated `ts`/`sign`, then adds a fresh `ts` and its `sign` where the app would."""
    parts = urlsplit(request.url)
    query = _strip(parts.query)
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    ts = _fresh_ts()

    body_params: list[tuple[str, str]] = []
    new_body: Any = None  # a callable (ts, sign) -> bytes when ts/sign go into the body
    if body and content_type == "application/x-www-form-urlencoded":
        try:
            form = _strip(body.decode("utf-8"))
        except UnicodeDecodeError:
            form = None  # the server refuses it (400) whatever the sign
        if form is not None:
            body_params = _form_pairs(form)
            new_body = lambda extra: _append(form, extra).encode("utf-8")  # noqa: E731
    elif body and content_type == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            obj = {k: v for k, v in parsed.items() if k not in ("ts", "sign")}
            try:
                body_params = [(k, v if isinstance(v, str) else serde_compact(v)) for k, v in obj.items()]
            except (TypeError, OverflowError, ValueError, IndexError):
                body_params = []
            else:

                def new_body(extra: list[tuple[str, str]]) -> bytes:
                    out = dict(obj)
                    for k, v in extra:
                        out[k] = int(v) if k == "ts" else v
                    return json.dumps(out).encode("ascii")

    params = _form_pairs(query) + body_params + [("ts", str(ts))]
    extra = [("ts", str(ts)), ("sign", sign(params, secret))]
    if new_body is not None:
        request.body = new_body(extra)
        request.headers["Content-Length"] = str(len(request.body))
    else:
        # No body of parameters (GET, empty, not an object): ts and sign
        # travel in the query string.
        query = _append(query, extra)
    request.url = urlunsplit(parts._replace(query=query))
    _stats["signed"] += 1


_original_send = requests.Session.send


def _secret_for(authorization: str | None) -> str:
    """The accessSecret of the session whose Basic credentials are `authorization`."""
    try:
        token = base64.b64decode(authorization.split(" ", 1)[1]).decode().split(":", 1)[1]  # type: ignore[union-attr]
    except Exception:
        return DEFAULT_ACCESS_SECRET
    return _state["secrets"].get(token, DEFAULT_ACCESS_SECRET)


def _logged_out(response: requests.Response) -> bool:
    return response.status_code == 401 and "logged out" in response.text


def _send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
    mode = request.headers.pop(MODE_HEADER, None)
    unsigned = request.copy()
    if mode is not None:
        secret = _secret_for(request.headers.get("Authorization")) if mode == MODE_USER else DEFAULT_ACCESS_SECRET
        _sign_prepared(request, secret)
    response = _original_send(self, request, **kwargs)
    if mode == MODE_USER and _logged_out(response):
        # Another worker's `POST /account/logout` ended the session this call
        # was signed for: send it again for the new session.
        used = request.headers.get("Authorization")
        with _lock:
            if _basic(user_session()) == used:
                login()
            authorization = _basic(user_session())
        unsigned.headers["Authorization"] = authorization
        _sign_prepared(unsigned, _secret_for(authorization))
        request = unsigned
        response = _original_send(self, request, **kwargs)
    with _lock:
        _stats["requests"] += 1
        key = str(response.status_code)
        _stats["by_status"][key] = _stats["by_status"].get(key, 0) + 1
        if REFUSALS_FILE and response.status_code >= 400:
            try:
                message = response.json().get("message")
            except ValueError:
                message = response.text[:200]
            body = request.body if isinstance(request.body, (str, type(None))) else request.body.decode("utf-8", "replace")
            line = {
                "method": request.method,
                "url": request.url[:500],
                "body": (body or "")[:500],
                "status": response.status_code,
                "message": message,
                "signed": mode is not None,
            }
            with open(REFUSALS_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return response


requests.Session.send = _send  # type: ignore[method-assign]


def _write_stats() -> None:
    if STATS_FILE:
        with open(STATS_FILE, "w", encoding="utf-8") as f:
            json.dump(_stats, f, indent=1, sort_keys=True)


atexit.register(_write_stats)


# ---------------------------------------------------------------------------
# The fuzzing user
# ---------------------------------------------------------------------------


def _call(method: str, path: str, data: dict[str, Any], mode: str, auth: str | None = None) -> dict:
    headers = {MODE_HEADER: mode, "Client-Type": "1"}
    if auth:
        headers["Authorization"] = auth
    with requests.Session() as s:
        r = s.request(method, BASE_URL + path, data=data, headers=headers, timeout=30)
    body = r.json()
    if r.status_code != 200 or body.get("status") != 1:
        raise RuntimeError(f"{method} {path} failed: HTTP {r.status_code} {body}")
    return body["result"]


def _basic(session: dict) -> str:
    raw = f"{session['uid']}:{session['accessToken']}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def login() -> dict:
    """Logs the fuzzing user in (again) and makes sure its profile exists."""
    with _lock:
        phone = {"countryCode": "86", "mobile": MOBILE}
        try:
            _call("POST", "/account/captcha", phone, MODE_DEFAULT)
        except RuntimeError:
            pass  # a test number's code always works; the send may be rate-limited
        session = _call("POST", "/account/login/captcha", {**phone, "captcha": CAPTCHA}, MODE_DEFAULT)
        _state["session"] = session
        _state["secrets"][session["accessToken"]] = session["accessSecret"]
        headers = {MODE_HEADER: MODE_USER, "Authorization": _basic(session)}
        with requests.Session() as s:
            s.request(
                "POST",
                BASE_URL + "/user/profile/init",
                data={"nickname": "fuzzer", "avatar": "https://example.com/a.jpg", "bio": "schemathesis"},
                headers=headers,
                timeout=30,
            )  # 200001 once it exists: fine
        return session


def user_session() -> dict:
    with _lock:
        return _state["session"] or login()


def h5_token() -> str:
    with _lock:
        if _state["h5"] is None:
            _state["h5"] = _call("POST", "/h5/session", {}, MODE_DEFAULT)["h5Token"]
        return _state["h5"]


def _security(case: Any) -> set[str]:
    names: set[str] = set()
    for requirement in case.operation.definition.raw.get("security") or []:
        names.update(requirement)
    return names


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    security = _security(case)
    if case.operation.path.startswith("/h5/") and case.query is not None and "h5Token" in case.query:
        # GET /h5/room/{roomCacheId}/live: the H5 token travels in the query (not signed).
        case.query["h5Token"] = h5_token()
    if case.operation.path == "/upload/{key}" and isinstance((case.path_parameters or {}).get("key"), str):
        # The object key holds slashes (image/{uid}/{dir}/{id}.jpg); Schemathesis
        # percent-encodes them as %2F, which the router keeps as part of one segment.
        case.path_parameters["key"] = case.path_parameters["key"].replace("%2F", "/").replace("%2f", "/")
    if "requestSign" not in security:
        return  # not signed (health checks, pages, uploads, ...)
    if case.headers is None:
        case.headers = {}
    for name in [n for n in case.headers if n.lower() == "authorization"]:
        del case.headers[name]
    if "basicAuth" in security:
        case.headers["Authorization"] = _basic(user_session())
        case.headers[MODE_HEADER] = MODE_USER
    elif "h5Bearer" in security:
        case.headers["Authorization"] = "Bearer " + h5_token()
        case.headers[MODE_HEADER] = MODE_DEFAULT
    else:
        case.headers[MODE_HEADER] = MODE_DEFAULT


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    # The fuzzer logged our user out: log in again for the following calls.
    if case.operation.path == "/account/logout" and response.status_code == 200:
        try:
            ok = response.json().get("status") == 1
        except ValueError:
            ok = False
        if ok:
            login()
