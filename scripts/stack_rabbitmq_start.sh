#!/bin/sh
# Entry point of the local RabbitMQ base image (scripts/stack_images.sh): the broker's one user
# from RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS, as the public rabbitmq image takes them,
# then Debian's rabbitmq-server (which drops to the rabbitmq user) in the foreground.
set -eu
: "${RABBITMQ_DEFAULT_USER:?set RABBITMQ_DEFAULT_USER}"
: "${RABBITMQ_DEFAULT_PASS:?set RABBITMQ_DEFAULT_PASS}"
umask 027
# Logs to stdout (docker logs), not to files in the container.
cat >/etc/rabbitmq/rabbitmq.conf <<CONF
default_user = ${RABBITMQ_DEFAULT_USER}
default_pass = ${RABBITMQ_DEFAULT_PASS}
loopback_users.guest = true
log.console = true
log.file = false
CONF
chgrp rabbitmq /etc/rabbitmq/rabbitmq.conf
exec /usr/sbin/rabbitmq-server
