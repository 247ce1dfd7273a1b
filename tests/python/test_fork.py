"""The fork rule from Python: objects of the parent refuse in a child
(OSError with errno ECHILD, the context's message), closing them there is
fine, and the parent's objects keep working."""
import errno
import os
import unittest

import k8snet
from k8snet import nat


def in_child(fn):
    """Run fn() in a forked child; its exit status (0: all went as expected)."""
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            code = fn()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


class ForkTest(unittest.TestCase):
    def setUp(self):
        self.ctx = k8snet.Context()
        self.proxy = nat.Proxy(self.ctx, node_name="node1")
        self.svc = nat.Service("api").add_ip("10.96.0.10").add_port(80)

    def tearDown(self):
        self.proxy.close()
        self.svc.close()
        self.ctx.close()

    def test_context_in_child_raises_echild(self):
        def child():
            bad = 0
            try:
                self.ctx.log_priority = 7
                bad |= 1
            except OSError as e:
                if e.errno != errno.ECHILD or "before a fork()" not in e.strerror:
                    bad |= 2
            if self.ctx.errno != -errno.ECHILD:
                bad |= 4
            # Getters that return a pointer or a value raise too.
            for get in (lambda: self.proxy.node_name, lambda: self.svc.name):
                try:
                    get()
                    bad |= 8
                except OSError as e:
                    if e.errno != errno.ECHILD:
                        bad |= 16
            # A context of the child's own works; the parent's are freed.
            with k8snet.Context() as mine:
                mine.log_priority = 7
            self.proxy.close()
            self.svc.close()
            self.ctx.close()
            return bad
        self.assertEqual(in_child(child), 0)
        # The parent's objects are untouched.
        self.ctx.log_priority = 6
        self.assertEqual(self.ctx.log_priority, 6)
        self.assertEqual(self.proxy.node_name, "node1")
        self.assertEqual(self.svc.name, "api")
        self.proxy.add_service(self.svc)
        self.assertIn("10.96.0.10", self.proxy.render())


if __name__ == "__main__":
    unittest.main()
