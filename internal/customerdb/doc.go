// Package customerdb builds the SQLite customer-management database of the
// demo and of `make bench-db`: the tables a Laravel application keeps for
// customers and the services they buy (service_categories,
// service_packages, customers, customer_services, family_accounts,
// family_members), with the constraints such an application has, filled
// deterministically, and Churn, which applies one simulated hour of
// business (scattered updates, new customers with their services, a few
// deleted services) and returns the rows it touched.
//
// It is a helper for demos and benchmarks, not part of strata's library.
//
// Words: hour (one call of Churn; hour 0 is the freshly built database),
// rate (the share of a table's rows one hour touches), change (one
// inserted, updated or deleted row, named by table and primary key).
package customerdb
