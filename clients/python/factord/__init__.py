"""factord: a client for the factord daemon (pandas answers; `factorctl` for the monthly job).

    from factord import Client, FactordError
    c = Client()   # FACTORD_URL (default http://127.0.0.1:8080), FACTORD_TOKEN
"""
from .client import Client, Evaluation, JobFailed
from .transport import FactordConnectionError, FactordError

__all__ = ["Client", "Evaluation", "FactordError", "FactordConnectionError", "JobFailed"]
__version__ = "0.1.0"
