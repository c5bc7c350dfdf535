"""JupyterHub for one class of the course, with nbgrader's exchange and formgrader.

deploy/jupyterhub/setup.py writes the settings this file reads (ATTENTION_HUB_SETTINGS,
by default /srv/jupyterhub/hub_settings.json): the course, its instructor and students,
the exchange, ports and the Python environment. Start the hub as root (it starts each
user's server as that Unix user):

    ATTENTION_HUB_SETTINGS=/srv/jupyterhub/hub_settings.json \\
        .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Scripts (and the course's end-to-end test) may set ATTENTION_HUB_ADMIN_TOKEN: a service
`hub-admin` then holds that token, with the rights to manage users, servers and tokens.
"""

import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

SETTINGS = os.environ.get("ATTENTION_HUB_SETTINGS", "/srv/jupyterhub/hub_settings.json")
if not os.path.isfile(SETTINGS):
    raise SystemExit(
        f"{SETTINGS} not found: run deploy/jupyterhub/setup.py as root first, "
        "or point ATTENTION_HUB_SETTINGS at its hub_settings.json"
    )
with open(SETTINGS) as handle:
    s = json.load(handle)
course, instructor, students = s["course"], s["instructor"], s["students"]
state, bin_dir = Path(s["state_dir"]), Path(s["bin_dir"])

# --- the hub, its proxy and its state -------------------------------------------------
c.JupyterHub.ip = s["ip"]
c.JupyterHub.port = s["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [s["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['proxy_api_port']}"
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops the users' servers

if s["authenticator"] == "dummy":  # tests on 127.0.0.1 only: any password logs in
    c.JupyterHub.authenticator_class = "dummy"
else:
    c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {instructor, *students}

# --- groups, roles and scopes (JupyterHub >= 2; nbgrader #1533) -----------------------
# nbgrader reads a user's courses from groups named formgrade-<course> (graders) and
# nbgrader-<course> (everyone in the course): these names are nbgrader's, not ours.
c.JupyterHub.load_groups = {
    f"formgrade-{course}": {"users": [instructor]},
    f"nbgrader-{course}": {"users": [instructor, *students]},
}
c.JupyterHub.load_roles = [
    # A server's token acts for its owner: nbgrader asks the hub for the owner's groups.
    {"name": "server", "scopes": ["inherit"]},
    # Only the course's graders may open its formgrader service.
    {
        "name": f"formgrade-{course}",
        "groups": [f"formgrade-{course}"],
        "scopes": [f"access:services!service={course}"],
    },
    # Everyone in the course may see that the course's service exists (the course list).
    {
        "name": f"nbgrader-{course}",
        "groups": [f"nbgrader-{course}"],
        "scopes": ["list:services", f"read:services!service={course}"],
    },
    # The formgrader adds the students it is told about to the course's group.
    {
        "name": f"grader-{course}",
        "services": [course],
        "scopes": [
            "list:users",
            "read:users",
            "read:users:groups",
            "list:groups",
            f"read:groups!group=nbgrader-{course}",
            f"groups!group=nbgrader-{course}",
        ],
    },
]

# --- the users' servers ---------------------------------------------------------------
# Everything runs from the course's Python environment, found by absolute path: a user's
# login PATH need not contain it.
ENV_PATH = f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"


def environment(config_dir: str) -> dict:
    env = {"PATH": ENV_PATH, "JUPYTER_CONFIG_PATH": config_dir}
    if s.get("pythonpath"):
        env["PYTHONPATH"] = s["pythonpath"]
    return env


c.Spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120  # a loaded machine starts JupyterLab slowly
c.Spawner.http_timeout = 120


def pre_spawn(spawner):
    """Students get the assignment list only; the instructor also nbgrader's menus."""
    kind = "instructor" if spawner.user.name == instructor else "student"
    spawner.environment.update(environment(s["jupyter_config"][kind]))


c.Spawner.pre_spawn_hook = pre_spawn

# --- the course's formgrader, a hub service run as the instructor ---------------------
# Open it in its own tab (https://<hub>/services/<course>/formgrader): under
# JupyterHub >= 4.1 the iframe in JupyterLab's menu stays blank (nbgrader #1870; the fix
# was reverted in #1947).
c.JupyterHub.services = [
    {
        "name": course,
        "url": f"http://127.0.0.1:{s['service_port']}",
        "command": [
            str(bin_dir / "jupyterhub-singleuser"),
            f"--ServerApp.root_dir={s['course_root']}",
        ],
        "user": instructor,
        "cwd": s["course_root"],
        "environment": {
            **environment(s["jupyter_config"]["grader"]),
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
        },
        "oauth_no_confirm": True,
    }
]

# The hub waits about ten seconds for a managed service to answer, then exits; the
# formgrader (a Jupyter server importing nbgrader) can take longer on a busy machine.
# A service still running gets up to SERVICE_WAIT_S more seconds.
SERVICE_WAIT_S = float(s.get("service_wait_s", 90))


def _patient_services():
    from jupyterhub.app import JupyterHub
    from jupyterhub.objects import Server
    from jupyterhub.utils import AnyTimeoutError

    start_service = JupyterHub.start_service

    async def patient(self, service_name, service, ssl_context=None):
        if await start_service(self, service_name, service, ssl_context):
            return True
        if not service.managed or await service.spawner.poll() is not None:
            return False  # external, or it exited: a real failure
        self.log.warning(
            "Waiting up to %.0f s more for service %s", SERVICE_WAIT_S, service_name
        )
        try:
            await Server.from_orm(service.orm.server).wait_up(
                http=True, timeout=SERVICE_WAIT_S, ssl_context=ssl_context
            )
        except AnyTimeoutError:
            return False
        self.log.info("Service %s is up", service_name)
        return True

    JupyterHub.start_service = patient


_patient_services()

ADMIN_TOKEN = os.environ.get("ATTENTION_HUB_ADMIN_TOKEN")
if ADMIN_TOKEN:
    c.JupyterHub.services.append({"name": "hub-admin", "api_token": ADMIN_TOKEN})
    c.JupyterHub.load_roles.append(
        {
            "name": "hub-admin",
            "services": ["hub-admin"],
            "scopes": [
                "admin:users",
                "admin:servers",
                "tokens",
                "list:users",
                "read:users",
                "read:users:groups",
                "list:groups",
                "read:groups",
            ],
        }
    )
