\set r random(0, 999999999)
SELECT pull_next(:r);
