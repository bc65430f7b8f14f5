"""gcdt.kumo_particle_helper (gcdt_kumo.kumo_particle_helper): kumo particles on troposphere."""
import os

from gcdt._needs import troposphere_modules

(troposphere,) = troposphere_modules("gcdt.kumo_particle_helper", "troposphere")


def initialize(template, service_name, environment="dev"):
    """Puts SERVICE_NAME ($SERVICE_NAME, else `service_name`), SERVICE_ENVIRONMENT ($ENV, else
    `environment`, lower case) and DEFAULT_TAGS (service-name, environment) on the template, with
    the template version and a description."""
    template.SERVICE_NAME = os.getenv("SERVICE_NAME", service_name)
    template.SERVICE_ENVIRONMENT = os.getenv("ENV", environment).lower()
    template.DEFAULT_TAGS = troposphere.Tags(**{
        "service-name": template.SERVICE_NAME,
        "environment": template.SERVICE_ENVIRONMENT,
    })
    template.set_version("2010-09-09")
    template.set_description("Stack for %s microservice" % service_name)


def get_particle_permissions(particles):
    """The permissions of the particles that have any."""
    return [p.permissions for p in particles if p.permissions is not None]


class Particle(object):
    """A building block: its template, its resources ({name: resource}) and its permissions."""

    def __init__(self, template, resources, permissions=None):
        self.template = template
        self.resources = resources
        self.permissions = permissions
