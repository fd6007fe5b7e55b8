"""Clean control: a fork child imports hashlib and ssl, which load OpenSSL
(its libcrypto registers OPENSSL_cleanup with atexit as it initialises),
and logging (which registers logging.shutdown), then ends with os._exit()
as multiprocessing workers do.  Skipping those handlers loses nothing, and
the child's late-loaded libraries are still named: no finding."""
from pyfork import fork_child, wait_child_bounded


def child():
    import hashlib
    import logging
    import ssl

    hashlib.sha256(b"forksan").hexdigest()
    ssl.create_default_context()
    logging.getLogger("child").debug("ready")


print("child ended: %d" % wait_child_bounded(fork_child(child), 5.0))
