\set r random(0, 999999999)
SELECT create_ticket(:r);
