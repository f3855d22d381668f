"""The Python SDK a host application uses from its server, with the controller's secret key.

```python
from charter.sdk import Client

charter = Client("https://charter.example", "chk_…")
person = charter.register(email="wang.fang@example.com", birth_date="1990-05-01")
charter.record_consent(person.subject_id, "marketing_email", channel="email", method="double_opt_in")
if charter.decide(person.subject_id, "marketing_email", channel="email").allowed:
    ...
charter.withdraw(person.subject_id, "marketing_email")   # the next decision denies
```

A host that answers Charter's calls (the login webhook, a webhook dataset) checks them with
`verify_signature(key, request.headers.get(SIGNATURE_HEADER), body)`.
"""

from charter.connectors.webhook import SIGNATURE_HEADER, verify_signature
from charter.sdk.client import (
    AccountClosure,
    CharterAPIError,
    Client,
    ConsentRecord,
    LocalDecider,
    Registration,
    SubmittedRequest,
)
from charter.sdk.source import HttpDecisionSource

__all__ = ["SIGNATURE_HEADER", "AccountClosure", "CharterAPIError", "Client", "ConsentRecord", "HttpDecisionSource",
           "LocalDecider", "Registration", "SubmittedRequest", "verify_signature"]
