"""PMB's scheduled task (admin/planificateur/sync_pnb/sync_pnb.class.php, PMB 7.5.8) as the tests read
the FTP files: the same listing choice, the same XML-to-array conversion, the same element paths.

PHP's `json_decode(json_encode(simplexml_load_string($xml, ..., LIBXML_NOCDATA)), true)` is emulated:
an element with children is an object of them (a name seen twice becomes a list), a leaf its text (an
empty leaf `{}`), attributes go under "@attributes", CDATA is text. PHP's `foreach` over an object walks
its values, and a missing index reads as null: both matter for offerLoanList."""

from __future__ import annotations

from typing import Any

from lxml import etree


def simplexml(xml: bytes | str) -> Any:
    parser = etree.XMLParser(strip_cdata=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml, parser)
    return _value(root)


def _value(el: Any) -> Any:
    children = [c for c in el if isinstance(c.tag, str)]
    if not children and not el.attrib:
        return el.text if el.text else {}
    out: dict[str, Any] = {}
    if el.attrib:
        out["@attributes"] = dict(el.attrib)
    for child in children:
        name = etree.QName(child).localname
        value = _value(child)
        if name in out:
            out[name] = out[name] if isinstance(out[name], list) else [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    return out


def index(value: Any, *keys: Any) -> Any:
    """`$value['a']['b']...` with PHP's reading of a missing index: null."""
    for k in keys:
        found = ((isinstance(value, dict) and k in value)
                 or (isinstance(value, list) and isinstance(k, int) and 0 <= k < len(value)))
        if not found:
            return None
        value = value[k]
    return value


def php_foreach(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def files_to_process(full_list: list[str], diff_list: list[str], full_sync: bool) -> list[str]:
    """get_offer_files(): rsort each list, the date is substr(explode('_', name)[3], 0, 8)."""
    def day(name: str) -> str:
        parts = name.split("_")
        return parts[3][:8] if len(parts) > 3 else ""

    fulls = sorted(full_list, reverse=True)
    diffs = sorted(diff_list, reverse=True)
    last_full = fulls[0] if fulls else ""
    last_diff = diffs[0] if diffs else ""
    diffs_oldest_first = list(reversed(diffs))
    if full_sync and last_full and last_diff:
        return [last_full, *[d for d in diffs_oldest_first if day(d) > day(last_full)]]
    if full_sync and last_full:
        return [last_full]
    if full_sync and last_diff:
        return diffs_oldest_first
    if last_full and last_diff:
        return [last_full] if day(last_full) >= day(last_diff) else [last_diff]
    if last_full:
        return [last_full]
    return [last_diff] if last_diff else []


def read_file(content: bytes) -> dict[str, Any]:
    """import_onix2uni() and check_loans_from_import() over one file: the order lines PMB would store
    (with what it reads of each) and the loan ids it marks as still running."""
    offers = simplexml(content)
    lines: list[dict[str, Any]] = []
    running: set[str] = set()
    loan_list = index(offers, "offerLoanList")
    if loan_list is not None:
        for loan in php_foreach(index(loan_list, "offerLine")):
            loan_id = index(loan, "line", "loanIdList", "loanId")
            if isinstance(loan_id, str):
                running.add(loan_id)
    found = index(offers, "offer")
    if found:
        if index(found, 0) is None:
            found = [found]
        for offer in found:
            order_lines = index(offer, "orderLine")
            order_lines = [order_lines] if index(order_lines, 0) is None else order_lines
            text = offer["notice"]
            notice = simplexml(text)
            start, end = text.find("<Product>"), text.find("</Product>")
            for line in order_lines or []:
                if index(line, "orderId") is None:
                    continue
                terms = index(line, "usage", "loanTerms")
                rights = index(line, "usage", "collRights")
                ids = index(notice, "Product", "ProductIdentifier")
                ids = [ids] if isinstance(ids, dict) else ids
                lines.append({
                    "orderId": line["orderId"], "orderLineId": line["orderLineId"], "orderDate": line["orderDate"],
                    "loanMaxDuration": (index(terms, "loanMaxDuration", "value"),
                                        index(terms, "loanMaxDuration", "unit")),
                    "nbLoans": index(terms, "nbLoans"),
                    "loanNbSimultaneousUsers": index(terms, "loanNbSimultaneousUsers"),
                    "consultNbSimultaneousUsersInSitu": index(terms, "consultNbSimultaneousUsersInSitu"),
                    "consultNbSimultaneousUsersExSitu": index(terms, "consultNbSimultaneousUsersExSitu"),
                    "offerValidity": (index(rights, "offerValidity", "value"), index(rights, "offerValidity", "unit")),
                    "ean": next((i["IDValue"] for i in ids if i.get("ProductIDType") == "03"), None),
                    "title": index(notice, "Product", "DescriptiveDetail", "TitleDetail", "TitleElement",
                                   "TitleText"),
                    "product": text[start:end] + "</Product>" if start >= 0 and end > start else None,
                })
    return {"lines": lines, "running": running, "has_loan_list": loan_list is not None}
